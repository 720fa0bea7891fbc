using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace Quiver.Core.Extraction;

/// <summary>
/// Extracts a Word document's body (paragraphs, tables, content controls, text boxes), then its
/// footnotes and endnotes. Parts are streamed with <see cref="OpenXmlReader"/> rather than loaded
/// as a DOM, because a large document's DOM costs many times its XML size.
/// </summary>
internal static class DocxTextExtractor
{
    public static void Extract(Stream stream, ExtractionOptions options, BoundedTextBuilder sink, CancellationToken ct)
    {
        using var document = WordprocessingDocument.Open(stream, isEditable: false, OoxmlOpenSettings.Create(options));
        var main = document.MainDocumentPart
            ?? throw ExtractionException.Invalid("The file is not a valid Word document: it has no main document part.");

        ReadPart(main, sink, ct);
        if (main.FootnotesPart is { } footnotes)
        {
            ReadPart(footnotes, sink, ct);
        }

        if (main.EndnotesPart is { } endnotes)
        {
            ReadPart(endnotes, sink, ct);
        }
    }

    private static void ReadPart(OpenXmlPart part, BoundedTextBuilder sink, CancellationToken ct)
    {
        using var reader = OpenXmlReader.Create(part);
        var tableDepth = 0;
        var rowStart = false;
        var elements = 0;
        var more = reader.Read();
        while (more)
        {
            if (++elements % 4_096 == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            var type = reader.ElementType;
            if (reader.IsStartElement && type == typeof(AlternateContentFallback))
            {
                // mc:Fallback repeats the mc:Choice content for older readers; reading both would
                // duplicate text.
                reader.Skip();
                more = !reader.EOF;
                continue;
            }

            if (reader.IsStartElement)
            {
                if (type == typeof(Text))
                {
                    sink.Append(reader.GetText());
                }
                else if (type == typeof(TabChar))
                {
                    sink.Append('\t');
                }
                else if (type == typeof(Break) || type == typeof(CarriageReturn))
                {
                    sink.AppendLine();
                }
                else if (type == typeof(NoBreakHyphen))
                {
                    sink.Append('-');
                }
                else if (type == typeof(Table))
                {
                    tableDepth++;
                    sink.AppendParagraphBreak();
                }
                else if (type == typeof(TableRow))
                {
                    rowStart = true;
                }
                else if (type == typeof(TableCell))
                {
                    if (!rowStart)
                    {
                        sink.Append(" | ");
                    }

                    rowStart = false;
                }
            }
            else if (reader.IsEndElement)
            {
                if (type == typeof(Paragraph))
                {
                    // Paragraphs in a table cell stay on the row's line.
                    if (tableDepth == 0)
                    {
                        sink.AppendParagraphBreak();
                    }
                    else
                    {
                        sink.Append(' ');
                    }
                }
                else if (type == typeof(TableRow))
                {
                    sink.AppendLine();
                }
                else if (type == typeof(Table))
                {
                    tableDepth--;
                    sink.AppendParagraphBreak();
                }
            }

            more = reader.Read();
        }
    }
}
