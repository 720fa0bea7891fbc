using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;

namespace Quiver.Core.Extraction;

/// <summary>
/// Extracts a presentation slide by slide in presentation order: each slide's text (shapes,
/// tables, grouped shapes) followed by its speaker notes. Slides are small, so each slide part
/// is loaded as a DOM.
/// </summary>
internal static class PptxTextExtractor
{
    /// <summary>Returns the number of slides.</summary>
    public static int Extract(Stream stream, ExtractionOptions options, BoundedTextBuilder sink, CancellationToken ct)
    {
        using var document = PresentationDocument.Open(stream, isEditable: false, OoxmlOpenSettings.Create(options));
        var presentationPart = document.PresentationPart
            ?? throw ExtractionException.Invalid("The file is not a valid PowerPoint presentation: it has no presentation part.");
        var slideIds = presentationPart.Presentation?.SlideIdList?.Elements<P.SlideId>() ?? [];

        var number = 0;
        foreach (var slideId in slideIds)
        {
            ct.ThrowIfCancellationRequested();
            if (slideId.RelationshipId?.Value is not { } relationshipId
                || !presentationPart.TryGetPartById(relationshipId, out var part)
                || part is not SlidePart slidePart)
            {
                continue;
            }

            number++;
            sink.AppendParagraphBreak().Append($"Slide {number}").AppendLine();
            AppendParagraphs(slidePart.Slide, sink);

            if (slidePart.NotesSlidePart?.NotesSlide is { } notes)
            {
                var before = sink.Length;
                sink.AppendLine().Append("Notes:").AppendLine();
                var start = sink.Length;
                AppendNotes(notes, sink);
                if (sink.Length == start)
                {
                    // No notes text: the "Notes:" label alone would only add noise. Nothing else
                    // has been appended since, so trimming back is safe.
                    sink.TruncateTo(before);
                }
            }
        }

        return number;
    }

    private static void AppendParagraphs(OpenXmlElement? root, BoundedTextBuilder sink)
    {
        if (root is null)
        {
            return;
        }

        foreach (var paragraph in root.Descendants<A.Paragraph>())
        {
            if (paragraph.Ancestors<AlternateContentFallback>().Any())
            {
                continue;
            }

            AppendParagraph(paragraph, sink);
        }
    }

    private static void AppendNotes(P.NotesSlide notes, BoundedTextBuilder sink)
    {
        // Only the notes body: the notes page also holds the slide image and the slide number.
        foreach (var shape in notes.Descendants<P.Shape>())
        {
            var placeholder = shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape;
            if (placeholder?.Type?.Value == P.PlaceholderValues.Body)
            {
                AppendParagraphs(shape.TextBody, sink);
            }
        }
    }

    private static void AppendParagraph(A.Paragraph paragraph, BoundedTextBuilder sink)
    {
        foreach (var element in paragraph.Descendants())
        {
            switch (element)
            {
                case A.Text text:
                    sink.Append(text.Text);
                    break;
                case A.Break:
                    sink.AppendLine();
                    break;
                default:
                    break;
            }
        }

        sink.AppendLine();
    }
}
