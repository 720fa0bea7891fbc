using System.Text;
using DocumentFormat.OpenXml.Packaging;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;
using S = DocumentFormat.OpenXml.Spreadsheet;
using W = DocumentFormat.OpenXml.Wordprocessing;

namespace Quiver.IntegrationTests.Ingestion;

/// <summary>Small documents of every supported format, built in memory, each with distinctive words.</summary>
internal static class DocumentFixtures
{
    public static byte[] Docx(params string[] paragraphs)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, DocumentFormat.OpenXml.WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            main.Document = new W.Document(new W.Body(paragraphs.Select(p => new W.Paragraph(new W.Run(new W.Text(p))))));
        }

        return stream.ToArray();
    }

    /// <summary>One sheet; every cell an inline string.</summary>
    public static byte[] Xlsx(string sheetName, params string[][] rows)
    {
        using var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, DocumentFormat.OpenXml.SpreadsheetDocumentType.Workbook))
        {
            var workbookPart = document.AddWorkbookPart();
            workbookPart.Workbook = new S.Workbook(new S.Sheets());
            var worksheetPart = workbookPart.AddNewPart<WorksheetPart>();
            worksheetPart.Worksheet = new S.Worksheet(new S.SheetData(rows.Select((cells, r) => new S.Row(cells.Select((text, c) => new S.Cell
            {
                CellReference = $"{(char)('A' + c)}{r + 1}",
                DataType = S.CellValues.InlineString,
                InlineString = new S.InlineString(new S.Text(text)),
            })))));
            workbookPart.Workbook.Sheets!.Append(new S.Sheet { Id = workbookPart.GetIdOfPart(worksheetPart), SheetId = 1, Name = sheetName });
        }

        return stream.ToArray();
    }

    /// <summary>One slide per text (a minimal package: the extractor reads slides in list order).</summary>
    public static byte[] Pptx(params string[] slides)
    {
        using var stream = new MemoryStream();
        using (var document = PresentationDocument.Create(stream, DocumentFormat.OpenXml.PresentationDocumentType.Presentation))
        {
            var presentationPart = document.AddPresentationPart();
            presentationPart.Presentation = new P.Presentation(new P.SlideIdList());
            uint id = 256;
            foreach (var text in slides)
            {
                var slidePart = presentationPart.AddNewPart<SlidePart>();
                slidePart.Slide = new P.Slide(new P.CommonSlideData(new P.ShapeTree(new P.Shape(
                    new P.NonVisualShapeProperties(
                        new P.NonVisualDrawingProperties { Id = 2, Name = "Text" },
                        new P.NonVisualShapeDrawingProperties(),
                        new P.ApplicationNonVisualDrawingProperties()),
                    new P.ShapeProperties(),
                    new P.TextBody(new A.BodyProperties(), new A.Paragraph(new A.Run(new A.Text(text))))))));
                presentationPart.Presentation.SlideIdList!.Append(new P.SlideId { Id = id++, RelationshipId = presentationPart.GetIdOfPart(slidePart) });
            }
        }

        return stream.ToArray();
    }

    /// <summary>A long multi-paragraph English text (several hundred tokens per paragraph group).</summary>
    public static string LongText(int paragraphs, string topic = "river")
    {
        var text = new StringBuilder();
        for (var p = 0; p < paragraphs; p++)
        {
            if (p > 0)
            {
                text.Append("\n\n");
            }

            for (var s = 0; s < 4 + (p % 3); s++)
            {
                text.Append(FormattableString.Invariant(
                    $"Sentence {s} of paragraph {p} describes the {topic} valley, its orchards and the old stone bridge number {p * 10 + s}. "));
            }
        }

        return text.ToString().TrimEnd();
    }
}
