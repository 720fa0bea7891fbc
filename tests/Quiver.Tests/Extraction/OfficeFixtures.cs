using System.IO.Compression;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;
using S = DocumentFormat.OpenXml.Spreadsheet;
using W = DocumentFormat.OpenXml.Wordprocessing;

namespace Quiver.Tests.Extraction;

/// <summary>Builds small Office documents in memory for the extraction tests.</summary>
internal static class OfficeFixtures
{
    public static byte[] Docx()
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            main.Document = new W.Document(new W.Body(
                new W.Paragraph(new W.Run(new W.Text("Aardvark opens the report."))),
                new W.Paragraph(
                    new W.Run(new W.Text("Split ") { Space = SpaceProcessingModeValues.Preserve }),
                    new W.Run(new W.Text("across runs"), new W.Break(), new W.Text("after a break"))),
                new W.Table(
                    new W.TableRow(Cell("Species"), Cell("Habitat")),
                    new W.TableRow(Cell("Zebra"), Cell("Savanna"))),
                new W.Paragraph(new W.Run(new W.DeletedText("DeletedSecret"))),
                new W.Paragraph(new W.Run(new W.Text("Closing capybara paragraph.")))));
        }

        return stream.ToArray();

        static W.TableCell Cell(string text) => new(new W.Paragraph(new W.Run(new W.Text(text))));
    }

    public static byte[] Pptx(params (string Title, string? Notes)[] slides)
    {
        using var stream = new MemoryStream();
        using (var document = PresentationDocument.Create(stream, PresentationDocumentType.Presentation))
        {
            var presentationPart = document.AddPresentationPart();
            presentationPart.Presentation = new P.Presentation(new P.SlideIdList());
            uint id = 256;
            foreach (var (title, notes) in slides)
            {
                var slidePart = presentationPart.AddNewPart<SlidePart>();
                slidePart.Slide = new P.Slide(new P.CommonSlideData(new P.ShapeTree(TextShape(title, null))));
                if (notes is not null)
                {
                    var notesPart = slidePart.AddNewPart<NotesSlidePart>();
                    notesPart.NotesSlide = new P.NotesSlide(new P.CommonSlideData(new P.ShapeTree(
                        TextShape("NotesSlideImagePlaceholder", P.PlaceholderValues.SlideImage),
                        TextShape(notes, P.PlaceholderValues.Body))));
                }

                presentationPart.Presentation.SlideIdList!.Append(new P.SlideId { Id = id++, RelationshipId = presentationPart.GetIdOfPart(slidePart) });
            }
        }

        return stream.ToArray();

        static P.Shape TextShape(string text, P.PlaceholderValues? placeholder)
        {
            var appProperties = new P.ApplicationNonVisualDrawingProperties();
            if (placeholder is { } type)
            {
                appProperties.Append(new P.PlaceholderShape { Type = type });
            }

            return new P.Shape(
                new P.NonVisualShapeProperties(
                    new P.NonVisualDrawingProperties { Id = 2, Name = "Text" },
                    new P.NonVisualShapeDrawingProperties(),
                    appProperties),
                new P.ShapeProperties(),
                new P.TextBody(new A.BodyProperties(), new A.Paragraph(new A.Run(new A.Text(text)))));
        }
    }

    public static byte[] Xlsx()
    {
        using var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbookPart = document.AddWorkbookPart();
            workbookPart.Workbook = new S.Workbook(new S.Sheets());
            var strings = workbookPart.AddNewPart<SharedStringTablePart>();
            strings.SharedStringTable = new S.SharedStringTable(
                new S.SharedStringItem(new S.Text("Animal")),
                new S.SharedStringItem(new S.Text("Count")),
                new S.SharedStringItem(new S.Text("Wombat")));

            AddSheet(workbookPart, 1, "Inventory",
                new S.Row(Shared("A1", 0), Shared("B1", 1)),
                new S.Row(Shared("A2", 2), Number("B2", "42")),
                new S.Row(Inline("A3", "Narwhal"), Number("B3", "7")));
            AddSheet(workbookPart, 2, "Budget",
                new S.Row(Inline("A1", "Ocelot fund"), Inline("C1", "gap before me")));
        }

        return stream.ToArray();

        static void AddSheet(WorkbookPart workbookPart, uint sheetId, string name, params S.Row[] rows)
        {
            var worksheetPart = workbookPart.AddNewPart<WorksheetPart>();
            worksheetPart.Worksheet = new S.Worksheet(new S.SheetData(rows));
            workbookPart.Workbook.Sheets!.Append(new S.Sheet { Id = workbookPart.GetIdOfPart(worksheetPart), SheetId = sheetId, Name = name });
        }

        static S.Cell Shared(string reference, int index) =>
            new() { CellReference = reference, DataType = S.CellValues.SharedString, CellValue = new S.CellValue(index.ToString(System.Globalization.CultureInfo.InvariantCulture)) };

        static S.Cell Number(string reference, string value) => new() { CellReference = reference, CellValue = new S.CellValue(value) };

        static S.Cell Inline(string reference, string text) =>
            new() { CellReference = reference, DataType = S.CellValues.InlineString, InlineString = new S.InlineString(new S.Text(text)) };
    }

    /// <summary>
    /// A .docx-shaped ZIP whose document part inflates to <paramref name="uncompressedBytes"/> of
    /// zeros. Written by streaming zeros through the compressor, so only the small compressed
    /// result is ever held.
    /// </summary>
    public static void WriteZipBomb(string path, long uncompressedBytes)
    {
        using var file = File.Create(path);
        using var archive = new ZipArchive(file, ZipArchiveMode.Create);
        var contentTypes = archive.CreateEntry("[Content_Types].xml");
        using (var writer = new StreamWriter(contentTypes.Open()))
        {
            writer.Write("<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>");
        }

        var entry = archive.CreateEntry("word/document.xml", CompressionLevel.Optimal);
        using var output = entry.Open();
        var zeros = new byte[1024 * 1024];
        for (long written = 0; written < uncompressedBytes; written += zeros.Length)
        {
            output.Write(zeros, 0, (int)Math.Min(zeros.Length, uncompressedBytes - written));
        }
    }

    /// <summary>A valid ZIP named like an Office document but without any Office parts.</summary>
    public static byte[] PlainZip()
    {
        using var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var writer = new StreamWriter(archive.CreateEntry("readme.txt").Open());
            writer.Write("not an office document");
        }

        return stream.ToArray();
    }
}
