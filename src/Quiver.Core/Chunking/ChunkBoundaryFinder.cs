namespace Quiver.Core.Chunking;

/// <summary>Classifies a character position of a text as a place to end a chunk.</summary>
internal static class ChunkBoundaryFinder
{
    // White-space runs are only inspected this far either side of the cut, so a pathological run
    // (megabytes of spaces) cannot make choosing a boundary quadratic. A blank line is always
    // found within it in real text.
    private const int MaxRunScan = 64;

    // Closing quotes and brackets that may sit between a sentence terminator and the white space.
    private const string Closers = "\"')]}»”’";

    /// <summary>
    /// Classifies cutting <paramref name="text"/> at <paramref name="position"/> (the first
    /// character of the next chunk) by the white space around the cut and the character before it.
    /// </summary>
    public static BoundaryKind Classify(string text, int position)
    {
        var left = position;
        while (left > 0 && position - left < MaxRunScan && char.IsWhiteSpace(text[left - 1]))
        {
            left--;
        }

        var right = position;
        while (right < text.Length && right - position < MaxRunScan && char.IsWhiteSpace(text[right]))
        {
            right++;
        }

        var lineBreaks = 0;
        for (var i = left; i < right; i++)
        {
            lineBreaks += text[i] switch
            {
                '\n' or '\u2028' or '\u0085' => 1,
                // A lone CR is an old-style line break; CR LF counts once, on the LF.
                '\r' => i + 1 < text.Length && text[i + 1] == '\n' ? 0 : 1,
                '\u2029' => 2,
                _ => 0,
            };
        }

        if (lineBreaks >= 2)
        {
            return BoundaryKind.Paragraph;
        }

        if (lineBreaks == 1)
        {
            return BoundaryKind.Line;
        }

        if (left < right)
        {
            return left > 0 && EndsSentence(text, left) ? BoundaryKind.Sentence : BoundaryKind.Word;
        }

        // CJK text has no spaces between sentences; its full-width terminators end one on their own.
        return position > 0 && text[position - 1] is '。' or '！' or '？'
            ? BoundaryKind.Sentence
            : BoundaryKind.Token;
    }

    // True when the non-space text ending just before `end` ends with a sentence terminator,
    // allowing a couple of closing quotes or brackets after it ("...end.)" or "...end.”").
    private static bool EndsSentence(string text, int end)
    {
        var i = end - 1;
        for (var closers = 0; i > 0 && closers < 2 && Closers.Contains(text[i]); closers++)
        {
            i--;
        }

        return text[i] is '.' or '!' or '?' or '…' or '。' or '！' or '？';
    }
}
