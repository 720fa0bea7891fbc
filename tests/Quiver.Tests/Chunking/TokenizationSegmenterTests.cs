using Microsoft.ML.Tokenizers;
using Quiver.Core.Chunking;

namespace Quiver.Tests.Chunking;

public sealed class TokenizationSegmenterTests
{
    private static readonly TiktokenTokenizer Tokenizer = TiktokenTokenizer.CreateForEncoding("cl100k_base");

    // Characters that exercise every branch of the cl100k pre-tokenizer regex.
    private static readonly string[] Alphabet =
    [
        " ", " ", " ", "\n", "\r\n", "\t", "\u00A0", "a", "Bc", "word", "s", "t", "'", "1", "23", ".",
        ",", "!", "?", "-", "_", "<|", "|>", "é", "e\u0301", "。", "、", "好", "世界", "😀", "🇫🇷", "<|endoftext|>",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Every_exact_cut_leaves_the_tokens_unchanged(int seed)
    {
        var text = RandomText(seed, pieces: 600);
        var whole = Tokenizer.EncodeToIds(text);

        var cuts = 0;
        for (var p = 1; p < text.Length; p++)
        {
            if (TokenizationSegmenter.IsExactCut(text, p))
            {
                cuts++;
                var joined = Tokenizer.EncodeToIds(text[..p]).Concat(Tokenizer.EncodeToIds(text[p..]));
                Assert.True(whole.SequenceEqual(joined), $"cut at {p} changes tokens: ...{text[Math.Max(0, p - 8)..p]}|{text[p..Math.Min(text.Length, p + 8)]}...");
            }
        }

        Assert.True(cuts > 10, $"only {cuts} exact cuts");
    }

    [Theory]
    [InlineData("line\nNext", 5, true)]
    [InlineData("end.\n\nNext", 6, true)]
    [InlineData("word next", 4, true)]
    [InlineData("a\n\t b", 4, false)]
    [InlineData("a  b", 3, false)]
    [InlineData("word 123", 4, false)]
    [InlineData("好。世界", 1, true)]
    [InlineData("<|fim_prefix|>", 5, false)]
    [InlineData("😀好", 1, false)]
    public void Exact_cuts_follow_the_pre_tokenizer(string text, int position, bool expected)
    {
        Assert.Equal(expected, TokenizationSegmenter.IsExactCut(text, position));
    }

    [Fact]
    public void Segments_of_long_real_text_encode_to_the_whole_text_tokens()
    {
        var texts = new[]
        {
            ChunkingTexts.SciFact(documents: 400),
            ChunkingTexts.Synthetic(seed: 11, paragraphs: 600, multilingual: true),
            RandomText(seed: 12, pieces: 20_000),
        };

        foreach (var text in texts)
        {
            var segmented = new List<int>();
            var segments = 0;
            for (var start = 0; start < text.Length; segments++)
            {
                var end = TokenizationSegmenter.NextSegmentEnd(text, start, text.Length);
                Assert.InRange(end, start + 1, text.Length);
                segmented.AddRange(Tokenizer.EncodeToIds(text[start..end]));
                start = end;
            }

            Assert.True(text.Length < 2 * TokenizationSegmenter.TargetSegmentChars || segments > 1);
            Assert.Equal(Tokenizer.EncodeToIds(text), segmented);
        }
    }

    [Theory]
    [InlineData('a')]
    [InlineData(' ')]
    [InlineData('.')]
    public void Huge_runs_without_exact_cuts_are_cut_every_max_unsplit_chars(char repeated)
    {
        var text = "Start " + new string(repeated, 50_000) + " end";

        var start = 0;
        while (start < text.Length)
        {
            var end = TokenizationSegmenter.NextSegmentEnd(text, start, text.Length);
            Assert.InRange(end - start, 1, Math.Max(TokenizationSegmenter.TargetSegmentChars, TokenizationSegmenter.MaxUnsplitChars));
            start = end;
        }
    }

    [Fact]
    public void Forced_cuts_never_split_a_surrogate_pair()
    {
        var text = string.Concat(Enumerable.Repeat("𝔘", 5_000));

        for (var start = 0; start < text.Length;)
        {
            var end = TokenizationSegmenter.NextSegmentEnd(text, start, text.Length);
            Assert.False(end < text.Length && char.IsLowSurrogate(text[end]));
            start = end;
        }
    }

    [Fact]
    public void Chunking_a_huge_single_run_stays_bounded_and_intact()
    {
        var text = "Intro sentence. " + new string('a', 300_000) + string.Concat(Enumerable.Repeat("😀", 20_000)) + " Outro.";

        var chunks = TextChunker.Instance.Chunk(text, 800, 400);

        Assert.All(chunks, chunk =>
        {
            Assert.InRange(chunk.TokenCount, 1, 800);
            Assert.DoesNotContain('\uFFFD', chunk.Text);
        });
        Assert.EndsWith("Outro.", chunks[^1].Text, StringComparison.Ordinal);
    }

    private static string RandomText(int seed, int pieces)
    {
        var random = new Random(seed);
        return string.Concat(Enumerable.Range(0, pieces).Select(_ => Alphabet[random.Next(Alphabet.Length)]));
    }
}
