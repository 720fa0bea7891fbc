using System.Globalization;
using System.Text;

namespace Quiver.Core.Extraction;

/// <summary>
/// Normalises extracted text so chunk boundaries and search terms behave the same whatever the
/// source format: NFC, LF line endings, no control characters, runs of spaces/tabs collapsed,
/// lines trimmed, at most one blank line between paragraphs, no leading or trailing blank lines.
/// </summary>
internal static class TextNormalizer
{
    /// <summary>
    /// Normalises <paramref name="text"/>. With <paramref name="preserveIndentation"/> (source
    /// code) leading whitespace and inner runs are kept, because indentation carries meaning there.
    /// </summary>
    /// <remarks>
    /// NFC relies on ICU: when the process runs with <c>InvariantGlobalization</c>,
    /// <see cref="string.Normalize(NormalizationForm)"/> returns its input unchanged, so the
    /// composition step is skipped there.
    /// </remarks>
    public static string Normalize(string text, bool preserveIndentation = false)
    {
        if (text.Length == 0)
        {
            return text;
        }

        try
        {
            text = text.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            // Lone surrogates make the text un-normalisable; the cleanup below replaces them.
        }

        var output = new StringBuilder(text.Length);
        var line = new StringBuilder();
        var pendingBlank = false;
        var any = false;

        for (var i = 0; i <= text.Length; i++)
        {
            var c = i < text.Length ? text[i] : '\n';
            if (c is '\r' or '\n' or '\f' or '\v' or '\u2028' or '\u2029' or '\u0085')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                FlushLine(output, line, preserveIndentation, ref pendingBlank, ref any);

                // A form feed or paragraph separator is a paragraph boundary even without a blank line.
                if (c is '\f' or '\u2029' && any)
                {
                    pendingBlank = true;
                }

                continue;
            }

            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    line.Append(c).Append(text[i + 1]);
                    i++;
                }
                else
                {
                    line.Append('\uFFFD');
                }

                continue;
            }

            if (c == '\t' || c == ' ' || (c > 0x7F && CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.SpaceSeparator))
            {
                if (preserveIndentation)
                {
                    line.Append(c == '\t' ? '\t' : ' ');
                }
                else if (line.Length > 0 && line[^1] != ' ')
                {
                    line.Append(' ');
                }

                continue;
            }

            // Control characters and format characters that only get in the way of search
            // (BOMs mid-text, soft hyphens, zero-width spaces). Zero-width joiners stay: emoji need them.
            if (char.IsControl(c) || c is '\uFEFF' or '\u00AD' or '\u200B')
            {
                continue;
            }

            line.Append(c);
        }

        return output.ToString();
    }

    private static void FlushLine(StringBuilder output, StringBuilder line, bool preserveIndentation, ref bool pendingBlank, ref bool any)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] is ' ' or '\t')
        {
            end--;
        }

        var start = 0;
        if (!preserveIndentation)
        {
            while (start < end && line[start] == ' ')
            {
                start++;
            }
        }

        if (start == end)
        {
            pendingBlank |= any;
        }
        else
        {
            if (any)
            {
                output.Append(pendingBlank ? "\n\n" : "\n");
            }

            output.Append(line, start, end - start);
            any = true;
            pendingBlank = false;
        }

        line.Clear();
    }
}
