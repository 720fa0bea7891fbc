namespace Quiver.Core.Chunking;

/// <summary>
/// Cuts a text into segments that the <c>cl100k_base</c> tokenizer can encode one by one with the
/// same result as encoding the whole text, so that no single encode call sees a huge pre-token.
/// </summary>
/// <remarks>
/// The tokenizer's byte-pair merge is quadratic in the length of a pre-token (a run of letters,
/// of white space or of punctuation): 16,000 spaces or letters take over 100 ms, a 400 KB run takes
/// tens of seconds. Segments end only where cl100k's pre-tokenizer regex always starts a new
/// pre-token and never looks across, so the tokens are unchanged:
/// <list type="bullet">
/// <item>after a white-space run that ends in CR or LF, before a non-white-space character;</item>
/// <item>before a space that follows a non-white-space character and precedes a letter;</item>
/// <item>before a non-ASCII symbol or punctuation mark between two letters (CJK 。，、), which
/// starts the next letters' pre-token. ASCII symbols are left alone so that special tokens such as
/// <c>&lt;|fim_prefix|&gt;</c> stay whole.</item>
/// </list>
/// Only when <see cref="MaxUnsplitChars"/> characters pass without such a place (megabytes of one
/// letter, a giant white-space run, a long CJK run without punctuation) is the text cut anyway,
/// outside surrogate pairs; tokens then differ from whole-text encoding next to that cut, which is
/// the price of bounded work on adversarial input.
/// </remarks>
internal static class TokenizationSegmenter
{
    /// <summary>Segments aim for this many characters, so encode calls stay few and cheap.</summary>
    public const int TargetSegmentChars = 8192;

    /// <summary>Longest stretch encoded without an exact cut before a forced one.</summary>
    public const int MaxUnsplitChars = 1024;

    /// <summary>
    /// End (exclusive) of the segment of <paramref name="text"/> that starts at
    /// <paramref name="start"/> and must end by <paramref name="end"/>.
    /// </summary>
    public static int NextSegmentEnd(string text, int start, int end)
    {
        var lastExact = start;
        for (var p = start + 1; p < end; p++)
        {
            if (IsExactCut(text, p))
            {
                lastExact = p;
                if (p - start >= TargetSegmentChars)
                {
                    return p;
                }
            }
            else if (p - lastExact >= MaxUnsplitChars)
            {
                // Let the long run begin a segment of its own; if it already does, cut it.
                return lastExact > start ? lastExact : ForcedCut(text, p);
            }
        }

        return end;
    }

    /// <summary>True when cutting before <paramref name="position"/> leaves cl100k pre-tokens unchanged.</summary>
    public static bool IsExactCut(string text, int position)
    {
        if (position <= 0 || position >= text.Length)
        {
            return false;
        }

        var before = text[position - 1];
        var at = text[position];
        if (char.IsWhiteSpace(at))
        {
            return at == ' ' && !char.IsWhiteSpace(before) && position + 1 < text.Length && char.IsLetter(text[position + 1]);
        }

        if (before is '\r' or '\n')
        {
            return true;
        }

        return at > '\u007F'
            && !char.IsLetter(at)
            && !char.IsNumber(at)
            && !char.IsSurrogate(at)
            && char.IsLetter(before)
            && position + 1 < text.Length
            && char.IsLetter(text[position + 1]);
    }

    // Moves a forced cut off the middle of a surrogate pair.
    private static int ForcedCut(string text, int cut) => char.IsLowSurrogate(text[cut]) ? cut - 1 : cut;
}
