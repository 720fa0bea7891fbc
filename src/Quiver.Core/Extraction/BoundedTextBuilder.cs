using System.Text;

namespace Quiver.Core.Extraction;

/// <summary>
/// Collects extracted text and refuses to grow past a character limit, so a document whose text
/// would exhaust memory fails as soon as it crosses the limit instead of after it has been read.
/// </summary>
internal sealed class BoundedTextBuilder(int maxCharacters)
{
    private readonly StringBuilder _text = new();

    public int Length => _text.Length;

    public int MaxCharacters => maxCharacters;

    public BoundedTextBuilder Append(string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            EnsureRoom(value.Length);
            _text.Append(value);
        }

        return this;
    }

    public BoundedTextBuilder Append(ReadOnlySpan<char> value)
    {
        EnsureRoom(value.Length);
        _text.Append(value);
        return this;
    }

    public BoundedTextBuilder Append(char value)
    {
        EnsureRoom(1);
        _text.Append(value);
        return this;
    }

    /// <summary>Ends the current line.</summary>
    public BoundedTextBuilder AppendLine() => Append('\n');

    /// <summary>Ends the current paragraph; the normaliser later folds repeated breaks into one blank line.</summary>
    public BoundedTextBuilder AppendParagraphBreak() => Append("\n\n");

    /// <summary>Drops everything collected so far (used when an extractor falls back to another strategy).</summary>
    public void Clear() => _text.Clear();

    /// <summary>Drops text appended after <paramref name="length"/> characters.</summary>
    public void TruncateTo(int length) => _text.Length = Math.Min(length, _text.Length);

    public override string ToString() => _text.ToString();

    /// <summary>Throws when <paramref name="additional"/> more characters would exceed the limit.</summary>
    public void EnsureRoom(long additional)
    {
        if (_text.Length + additional > maxCharacters)
        {
            throw TooLarge(maxCharacters);
        }
    }

    public static ExtractionException TooLarge(int maxCharacters) => ExtractionException.Invalid(
        $"The file contains more than {maxCharacters:N0} characters of text, the limit for one file; split it into smaller files.");
}
