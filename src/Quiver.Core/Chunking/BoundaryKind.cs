namespace Quiver.Core.Chunking;

/// <summary>
/// How good a place between two tokens is for ending a chunk; a higher value is preferred.
/// </summary>
internal enum BoundaryKind
{
    /// <summary>The cut would split a character whose UTF-8 bytes span two tokens.</summary>
    MidCharacter = 0,

    /// <summary>A token boundary inside a word or between symbols.</summary>
    Token = 1,

    /// <summary>Between words (white space at the cut).</summary>
    Word = 2,

    /// <summary>After <c>.</c>, <c>!</c>, <c>?</c> or <c>…</c> (optionally closed by a quote or bracket) followed by white space, or after a full-width terminator.</summary>
    Sentence = 3,

    /// <summary>The white space at the cut holds one line break.</summary>
    Line = 4,

    /// <summary>The white space at the cut holds two or more line breaks (a blank line).</summary>
    Paragraph = 5,
}
