using System.Text;
using Quiver.Core.Extraction;

namespace Quiver.Tests.Extraction;

public sealed class TextNormalizerTests
{
    [Theory]
    [InlineData("a  b\t\tc", "a b c")]
    [InlineData("\n\n  para one  \n\n\n\n para two\n\n", "para one\n\npara two")]
    [InlineData("a\r\nb\rc", "a\nb\nc")]
    [InlineData("page one\fpage two", "page one\n\npage two")]
    [InlineData("soft\u00ADhyphen and\u00A0nbsp\u200B", "softhyphen and nbsp")]
    [InlineData("bell\u0007char", "bellchar")]
    [InlineData("   ", "")]
    public void Normalises_whitespace_and_paragraphs(string input, string expected)
    {
        Assert.Equal(expected, TextNormalizer.Normalize(input));
    }

    [Fact]
    public void Preserving_indentation_keeps_leading_and_inner_whitespace()
    {
        Assert.Equal("if x:\n\treturn  1", TextNormalizer.Normalize("if x:  \n\treturn  1\n", preserveIndentation: true));
    }

    [Fact]
    public void Lone_surrogates_are_replaced()
    {
        Assert.Equal("a\uFFFDb", TextNormalizer.Normalize("a\uD800b"));
    }

    [Fact]
    public void Composes_to_nfc()
    {
        // string.Normalize is a silent no-op when the runtime has no ICU (InvariantGlobalization).
        Assert.SkipWhen(IsInvariantGlobalization(), "NFC needs ICU; this process runs with InvariantGlobalization.");

        Assert.Equal("caf\u00E9", TextNormalizer.Normalize("cafe\u0301"));
    }

    private static bool IsInvariantGlobalization() => "e\u0301".Normalize(NormalizationForm.FormC).Length == 2;
}
