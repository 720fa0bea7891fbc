namespace Quiver.Core.Extraction;

/// <summary>
/// Renders table rows (CSV/TSV, spreadsheet sheets) one line per row. When the first non-empty
/// row looks like a header, later rows become <c>header: value; header: value</c> so each line
/// stays meaningful on its own after chunking; otherwise a row is its values joined by <c> | </c>.
/// </summary>
internal sealed class TableRowRenderer(BoundedTextBuilder sink)
{
    private string[]? _header;
    private bool _sawFirstRow;

    /// <summary>Adds a row; null or blank cells are gaps (kept so columns stay aligned with the header).</summary>
    public void AddRow(IReadOnlyList<string?> cells)
    {
        var count = 0;
        foreach (var cell in cells)
        {
            if (!string.IsNullOrWhiteSpace(cell))
            {
                count++;
            }
        }

        if (count == 0)
        {
            return;
        }

        if (!_sawFirstRow)
        {
            _sawFirstRow = true;
            if (LooksLikeHeader(cells))
            {
                _header = [.. cells.Select(c => Clean(c!))];
                WriteJoined(cells);
                return;
            }
        }

        if (_header is null)
        {
            WriteJoined(cells);
            return;
        }

        var first = true;
        for (var i = 0; i < cells.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(cells[i]))
            {
                continue;
            }

            if (!first)
            {
                sink.Append("; ");
            }

            first = false;
            if (i < _header.Length)
            {
                sink.Append(_header[i]).Append(": ");
            }

            sink.Append(Clean(cells[i]!));
        }

        sink.AppendLine();
    }

    /// <summary>Starts a new table (e.g. the next sheet): the next row may be a header again.</summary>
    public void Reset()
    {
        _header = null;
        _sawFirstRow = false;
    }

    private void WriteJoined(IReadOnlyList<string?> cells)
    {
        var first = true;
        foreach (var cell in cells)
        {
            if (string.IsNullOrWhiteSpace(cell))
            {
                continue;
            }

            if (!first)
            {
                sink.Append(" | ");
            }

            first = false;
            sink.Append(Clean(cell));
        }

        sink.AppendLine();
    }

    /// <summary>A header has two or more cells, none empty, none numeric, none repeated.</summary>
    private static bool LooksLikeHeader(IReadOnlyList<string?> cells)
    {
        if (cells.Count < 2)
        {
            return false;
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var cell in cells)
        {
            if (string.IsNullOrWhiteSpace(cell) || cell.Length > 100
                || double.TryParse(cell, System.Globalization.CultureInfo.InvariantCulture, out _)
                || !seen.Add(cell.Trim()))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Line breaks inside a cell would split the row; they become spaces.</summary>
    private static string Clean(string cell) =>
        cell.AsSpan().IndexOfAny('\r', '\n') >= 0
            ? cell.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\r', ' ').Replace('\n', ' ').Trim()
            : cell.Trim();
}
