using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;
using UglyToad.PdfPig.Exceptions;

namespace Quiver.Core.Extraction;

/// <summary>
/// Extracts PDF text with PdfPig in content order, one page at a time, with a blank line between
/// pages. The page count is checked before any page is parsed, and cancellation (which carries
/// the wall-clock budget) is checked between pages.
/// </summary>
internal static class PdfTextExtractor
{
    /// <summary>Returns the page count.</summary>
    public static int Extract(Stream stream, ExtractionOptions options, BoundedTextBuilder sink, CancellationToken ct)
    {
        stream.Position = 0;
        PdfDocument document;
        try
        {
            // Lenient parsing recovers the many PDFs with broken cross-reference tables; missing
            // fonts only affect glyph shapes, not the text we want.
            document = PdfDocument.Open(stream, new ParsingOptions { UseLenientParsing = true, SkipMissingFonts = true });
        }
        catch (PdfDocumentEncryptedException ex)
        {
            throw ExtractionException.Invalid(
                "The PDF is password-protected; remove the password (or save an unprotected copy) and upload it again.", ex);
        }

        using (document)
        {
            var pages = document.NumberOfPages;
            if (pages > options.MaxPdfPages)
            {
                throw ExtractionException.Invalid(
                    $"The PDF has {pages:N0} pages; at most {options.MaxPdfPages:N0} pages can be indexed from one file. Split it into smaller files.");
            }

            for (var number = 1; number <= pages; number++)
            {
                ct.ThrowIfCancellationRequested();
                var page = document.GetPage(number);
                var text = ContentOrderTextExtractor.GetText(page, addDoubleNewline: true);
                if (number > 1)
                {
                    sink.AppendParagraphBreak();
                }

                sink.Append(text);
            }

            return pages;
        }
    }
}
