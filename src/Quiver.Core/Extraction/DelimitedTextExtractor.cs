using System.Text;

namespace Quiver.Core.Extraction;

/// <summary>
/// Reads CSV and TSV (RFC 4180 quoting: quoted fields may hold delimiters, <c>""</c> and line
/// breaks) and renders the rows with <see cref="TableRowRenderer"/>. A <c>.csv</c> file's delimiter
/// is sniffed from its first line, because spreadsheet exports in many locales use <c>;</c>.
/// </summary>
internal static class DelimitedTextExtractor
{
    public static void Extract(TextReader reader, bool tabSeparated, BoundedTextBuilder sink, CancellationToken ct)
    {
        var renderer = new TableRowRenderer(sink);
        var lookahead = new PeekableReader(reader);
        var delimiter = tabSeparated ? '\t' : SniffDelimiter(lookahead);
        var row = new List<string?>();
        var field = new StringBuilder();
        var inQuotes = false;
        var fieldStarted = false;
        var rows = 0;

        while (true)
        {
            var c = lookahead.Read();
            if (c < 0)
            {
                if (fieldStarted || row.Count > 0)
                {
                    row.Add(field.ToString());
                    renderer.AddRow(row);
                }

                return;
            }

            var ch = (char)c;
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (lookahead.Peek() == '"')
                    {
                        lookahead.Read();
                        field.Append('"');
                    }
                    else
                    {
                        inQuotes = false;
                    }
                }
                else
                {
                    field.Append(ch);
                    if (field.Length > sink.MaxCharacters)
                    {
                        // An unterminated quote must not swallow a huge file into one field.
                        throw BoundedTextBuilder.TooLarge(sink.MaxCharacters);
                    }
                }

                continue;
            }

            if (ch == '"' && field.Length == 0)
            {
                inQuotes = true;
                fieldStarted = true;
            }
            else if (ch == delimiter)
            {
                row.Add(field.ToString());
                field.Clear();
                fieldStarted = true;
            }
            else if (ch is '\n' or '\r')
            {
                if (ch == '\r' && lookahead.Peek() == '\n')
                {
                    lookahead.Read();
                }

                row.Add(field.ToString());
                renderer.AddRow(row);
                row.Clear();
                field.Clear();
                fieldStarted = false;
                if (++rows % 1_000 == 0)
                {
                    ct.ThrowIfCancellationRequested();
                }
            }
            else
            {
                field.Append(ch);
                fieldStarted = true;
                if (field.Length > sink.MaxCharacters)
                {
                    throw BoundedTextBuilder.TooLarge(sink.MaxCharacters);
                }
            }
        }
    }

    /// <summary>Picks ',', ';', '\t' or '|' by how often each occurs unquoted in the first line.</summary>
    private static char SniffDelimiter(PeekableReader reader)
    {
        var firstLine = reader.PeekLine(64 * 1024);
        ReadOnlySpan<char> candidates = [',', ';', '\t', '|'];
        Span<int> counts = stackalloc int[candidates.Length];
        var inQuotes = false;
        foreach (var ch in firstLine)
        {
            if (ch == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (!inQuotes)
            {
                var index = candidates.IndexOf(ch);
                if (index >= 0)
                {
                    counts[index]++;
                }
            }
        }

        var best = 0;
        for (var i = 1; i < candidates.Length; i++)
        {
            if (counts[i] > counts[best])
            {
                best = i;
            }
        }

        return candidates[best];
    }

    /// <summary>A reader that can look at its first line without consuming it.</summary>
    private sealed class PeekableReader(TextReader inner)
    {
        private string _buffered = string.Empty;
        private int _position;

        public string PeekLine(int maxChars)
        {
            var line = new StringBuilder();
            int c;
            while (line.Length < maxChars && (c = inner.Read()) >= 0)
            {
                line.Append((char)c);
                if (c is '\n' or '\r')
                {
                    break;
                }
            }

            _buffered = line.ToString();
            _position = 0;
            return _buffered;
        }

        public int Read() => _position < _buffered.Length ? _buffered[_position++] : inner.Read();

        public int Peek() => _position < _buffered.Length ? _buffered[_position] : inner.Peek();
    }
}
