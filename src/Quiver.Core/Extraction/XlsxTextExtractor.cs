using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Quiver.Core.Extraction;

/// <summary>
/// Extracts a workbook sheet by sheet in workbook order: the sheet name, then its rows rendered by
/// <see cref="TableRowRenderer"/> with shared strings resolved. Sheets are streamed one row at a
/// time. Cells show their stored value (formulas their cached result; dates as serial numbers).
/// </summary>
internal static class XlsxTextExtractor
{
    /// <summary>Excel's last column (XFD); a reference past it is corrupt.</summary>
    private const int MaxColumns = 16_384;

    public static void Extract(Stream stream, ExtractionOptions options, BoundedTextBuilder sink, CancellationToken ct)
    {
        using var document = SpreadsheetDocument.Open(stream, isEditable: false, OoxmlOpenSettings.Create(options));
        var workbookPart = document.WorkbookPart
            ?? throw ExtractionException.Invalid("The file is not a valid Excel workbook: it has no workbook part.");

        var sharedStrings = ReadSharedStrings(workbookPart.SharedStringTablePart, sink.MaxCharacters, ct);
        var sheets = workbookPart.Workbook?.Sheets?.Elements<Sheet>() ?? [];
        var renderer = new TableRowRenderer(sink);
        var cells = new List<string?>();

        foreach (var sheet in sheets)
        {
            ct.ThrowIfCancellationRequested();
            if (sheet.Id?.Value is not { } id
                || !workbookPart.TryGetPartById(id, out var part)
                || part is not WorksheetPart worksheetPart)
            {
                continue; // Chart sheets and dangling references hold no cell text.
            }

            sink.AppendParagraphBreak().Append("Sheet: ").Append(sheet.Name?.Value).AppendLine();
            renderer.Reset();

            using var reader = OpenXmlReader.Create(worksheetPart);
            var rows = 0;
            while (reader.Read())
            {
                if (!reader.IsStartElement || reader.ElementType != typeof(Row))
                {
                    continue;
                }

                if (++rows % 1_000 == 0)
                {
                    ct.ThrowIfCancellationRequested();
                }

                var row = (Row)reader.LoadCurrentElement()!;
                ReadRow(row, sharedStrings, cells);
                renderer.AddRow(cells);
            }
        }
    }

    private static void ReadRow(Row row, List<string> sharedStrings, List<string?> cells)
    {
        cells.Clear();
        foreach (var cell in row.Elements<Cell>())
        {
            var column = ColumnIndex(cell.CellReference?.Value) ?? cells.Count;
            if (column >= MaxColumns)
            {
                continue;
            }

            // Missing cells are gaps: keep columns aligned with the header row.
            while (cells.Count < column)
            {
                cells.Add(null);
            }

            var value = CellText(cell, sharedStrings);
            if (column < cells.Count)
            {
                cells[column] = value;
            }
            else
            {
                cells.Add(value);
            }
        }
    }

    private static string? CellText(Cell cell, List<string> sharedStrings)
    {
        var type = cell.DataType?.Value;
        if (type == CellValues.InlineString)
        {
            return cell.InlineString?.InnerText;
        }

        var raw = cell.CellValue?.Text;
        if (raw is null)
        {
            return null;
        }

        if (type == CellValues.SharedString)
        {
            return int.TryParse(raw, out var index) && index >= 0 && index < sharedStrings.Count ? sharedStrings[index] : null;
        }

        if (type == CellValues.Boolean)
        {
            return raw == "1" ? "TRUE" : "FALSE";
        }

        // Error values (#N/A, #REF!) say nothing about the content.
        return type == CellValues.Error ? null : raw;
    }

    private static List<string> ReadSharedStrings(SharedStringTablePart? part, int maxCharacters, CancellationToken ct)
    {
        var strings = new List<string>();
        if (part is null)
        {
            return strings;
        }

        long total = 0;
        using var reader = OpenXmlReader.Create(part);
        while (reader.Read())
        {
            if (!reader.IsStartElement || reader.ElementType != typeof(SharedStringItem))
            {
                continue;
            }

            var item = (SharedStringItem)reader.LoadCurrentElement()!;

            // Only the text runs: phonetic guides (rPh) would repeat East Asian strings.
            var text = item.Text?.Text ?? string.Concat(item.Elements<Run>().Select(r => r.Text?.Text));
            total += text.Length;
            if (total > maxCharacters)
            {
                throw BoundedTextBuilder.TooLarge(maxCharacters);
            }

            strings.Add(text);
            if (strings.Count % 4_096 == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
        }

        return strings;
    }

    /// <summary>Zero-based column of a reference like <c>AB12</c>, or null when it has none.</summary>
    private static int? ColumnIndex(string? reference)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }

        var column = 0;
        var letters = 0;
        foreach (var c in reference)
        {
            var upper = char.ToUpperInvariant(c);
            if (upper is < 'A' or > 'Z')
            {
                break;
            }

            column = (column * 26) + (upper - 'A' + 1);
            if (++letters > 3)
            {
                return MaxColumns;
            }
        }

        return letters == 0 ? null : column - 1;
    }
}
