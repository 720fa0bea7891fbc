using System.Text;
using Microsoft.ML.Tokenizers;
using Quiver.Core.Chunking;

namespace Quiver.Tests.Chunking;

public sealed class TextChunkerTests
{
    // An independent tokenizer instance: the tests check the chunker against it, not against itself.
    private static readonly TiktokenTokenizer Tokenizer = TiktokenTokenizer.CreateForEncoding("cl100k_base");

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly TextChunker Chunker = TextChunker.Instance;

    public static TheoryData<int, int> StaticSettings => new()
    {
        { 100, 0 },
        { 100, 50 },
        { 137, 17 },
        { 400, 100 },
        { 800, 400 },
        { 4096, 0 },
        { 4096, 2048 },
    };

    [Theory]
    [MemberData(nameof(StaticSettings))]
    public void SciFact_chunks_are_exact_token_windows_with_exact_overlap(int max, int overlap)
    {
        var text = ChunkingTexts.SciFact(documents: 120);

        AssertStaticChunking(text, max, overlap);
    }

    [Theory]
    [MemberData(nameof(StaticSettings))]
    public void Synthetic_chunks_are_exact_token_windows_with_exact_overlap(int max, int overlap)
    {
        AssertStaticChunking(ChunkingTexts.Synthetic(seed: max + overlap, paragraphs: 400), max, overlap);
    }

    [Theory]
    [MemberData(nameof(StaticSettings))]
    public void Multilingual_chunks_keep_every_character_intact(int max, int overlap)
    {
        var text = ChunkingTexts.Synthetic(seed: 7 * max + overlap, paragraphs: 300, multilingual: true);

        var chunks = AssertStaticChunking(text, max, overlap);

        var position = 0;
        foreach (var chunk in chunks)
        {
            Assert.DoesNotContain('\uFFFD', chunk.Text);
            StrictUtf8.GetBytes(chunk.Text); // throws on a lone surrogate
            var found = text.IndexOf(chunk.Text, position, StringComparison.Ordinal);
            Assert.True(found >= 0, $"chunk {chunk.Index} is not a slice of the source at or after {position}");
            position = found;
        }
    }

    [Theory]
    [InlineData(100, 0)]
    [InlineData(100, 50)]
    [InlineData(300, 150)]
    public void Text_without_any_white_space_is_cut_without_splitting_characters(int max, int overlap)
    {
        // Flags and ZWJ families are several tokens per character; CJK ideographs are 1–3.
        var text = string.Concat(Enumerable.Repeat("😀👩‍👩‍👧‍👦🇫🇷细胞蛋白质結合東京𝔘𝔫𝔦", 120));

        var chunks = AssertStaticChunking(text, max, overlap);

        Assert.True(chunks.Count > 3);
        Assert.All(chunks, chunk =>
        {
            Assert.DoesNotContain('\uFFFD', chunk.Text);
            StrictUtf8.GetBytes(chunk.Text);
        });
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\n\n\t \r\n\u00A0\u2029")]
    public void White_space_only_text_gives_no_chunks(string text)
    {
        Assert.Empty(Chunker.Chunk(text, 800, 400));
    }

    [Fact]
    public void Text_within_the_budget_is_one_trimmed_chunk()
    {
        const string Text = "\n  Short abstract.\n\nSecond paragraph, still short!  \n";

        var chunk = Assert.Single(Chunker.Chunk(Text, 100, 50));

        Assert.Equal(0, chunk.Index);
        Assert.Equal(Text.Trim(), chunk.Text);
        Assert.Equal(Tokenizer.CountTokens(Text.Trim()), chunk.TokenCount);
    }

    [Fact]
    public void Text_of_exactly_max_tokens_is_one_chunk()
    {
        var text = string.Join(' ', Enumerable.Repeat("word", 100));
        Assert.Equal(100, Tokenizer.CountTokens(text));

        var chunk = Assert.Single(Chunker.Chunk(text, 100, 0));

        Assert.Equal(100, chunk.TokenCount);
    }

    [Fact]
    public void Paragraph_break_in_the_tail_window_wins_over_later_sentence_ends()
    {
        // 80 tokens, a blank line, then sentences: the paragraph (at 81 of 100) beats the sentence ends after it.
        var first = string.Join(' ', Enumerable.Repeat("alpha", 79)) + ".";
        var text = first + "\n\n" + string.Concat(Enumerable.Repeat("Beta gamma delta. ", 30));

        var chunks = Chunker.Chunk(text, 100, 0);

        Assert.Equal(first + "\n\n", chunks[0].Text);
        Assert.StartsWith("Beta", chunks[1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Sentence_end_wins_over_later_word_boundaries()
    {
        var text = string.Join(' ', Enumerable.Repeat("alpha", 85)) + ". " + string.Join(' ', Enumerable.Repeat("beta", 200));

        var chunks = Chunker.Chunk(text, 100, 0);

        Assert.EndsWith("alpha.", chunks[0].Text, StringComparison.Ordinal);
        Assert.Equal(86, chunks[0].TokenCount);
    }

    [Fact]
    public void Boundaries_outside_the_tail_window_are_ignored()
    {
        // The only sentence end is at token 50, before the window [75, 100]; the cut falls between words at 100.
        var text = string.Join(' ', Enumerable.Repeat("alpha", 49)) + ". " + string.Join(' ', Enumerable.Repeat("beta", 300));

        var chunks = Chunker.Chunk(text, 100, 0);

        Assert.Equal(100, chunks[0].TokenCount);
        Assert.EndsWith("beta", chunks[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_without_boundaries_is_hard_cut_at_max_with_exact_overlap()
    {
        var text = string.Concat(Enumerable.Range(0, 3000).Select(i => (char)('a' + (i * 7 % 26))));
        var total = Tokenizer.CountTokens(text);

        var chunks = Chunker.Chunk(text, 100, 40);

        Assert.All(chunks.SkipLast(1), chunk => Assert.Equal(100, chunk.TokenCount));
        Assert.Equal(total, chunks.Sum(c => c.TokenCount) - (40 * (chunks.Count - 1)));
    }

    [Fact]
    public void Windows_line_breaks_count_as_paragraph_breaks()
    {
        var first = string.Join(' ', Enumerable.Repeat("alpha", 80)) + ".";
        var text = first + "\r\n\r\n" + string.Concat(Enumerable.Repeat("Beta gamma delta. ", 30));

        var chunks = Chunker.Chunk(text, 100, 0);

        Assert.Equal(first + "\r\n\r\n", chunks[0].Text);
    }

    [Fact]
    public void CountTokens_counts_cl100k_base_tokens()
    {
        Assert.Equal(2, Chunker.CountTokens("hello world"));
        Assert.Equal(0, Chunker.CountTokens(""));
        Assert.Equal(Tokenizer.EncodeToIds("  café 😀 naïve\n").Count, Chunker.CountTokens("  café 😀 naïve\n"));
    }

    [Theory]
    [InlineData(99, 0)]
    [InlineData(4097, 0)]
    [InlineData(0, 0)]
    [InlineData(100, -1)]
    [InlineData(100, 51)]
    [InlineData(801, 401)]
    public void Out_of_range_static_settings_are_rejected(int max, int overlap)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TextChunker.ValidateStatic(max, overlap));
        Assert.Throws<ArgumentOutOfRangeException>(() => Chunker.Chunk("text", max, overlap));
    }

    [Theory]
    [InlineData(100, 0)]
    [InlineData(100, 50)]
    [InlineData(801, 400)]
    [InlineData(4096, 2048)]
    public void Static_settings_at_the_bounds_are_accepted(int max, int overlap)
    {
        TextChunker.ValidateStatic(max, overlap);
    }

    [Fact]
    public void Concurrent_chunking_matches_sequential_chunking()
    {
        var texts = Enumerable.Range(0, 16).Select(seed => ChunkingTexts.Synthetic(seed, paragraphs: 40, multilingual: seed % 2 == 0)).ToArray();
        var expected = texts.Select(t => Chunker.Chunk(t, 200, 50)).ToArray();

        var actual = new IReadOnlyList<TextChunk>[texts.Length];
        Parallel.For(0, texts.Length, i => actual[i] = Chunker.Chunk(texts[i], 200, 50));

        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(expected[i], actual[i]);
        }
    }

    // Checks every static-chunking property against a separate tokenization of the trimmed text:
    // ranges follow start(i+1) = end(i) - overlap from token 0 to the last token, each is at most
    // max tokens, the text is the source slice of the range (equal to the decoded ids where the
    // range does not split a character), the non-overlapping parts rebuild the id sequence, and
    // each end is the latest best boundary in the tail window.
    private static IReadOnlyList<TextChunk> AssertStaticChunking(string text, int max, int overlap)
    {
        var chunks = Chunker.Chunk(text, max, overlap);
        var trimmed = text.Trim();
        var tokens = Tokenizer.EncodeToTokens(trimmed, out _);
        var ids = tokens.Select(t => t.Id).ToArray();
        var starts = tokens.Select(t => t.Offset.Start.Value).ToArray();
        var ends = tokens.Select(t => t.Offset.End.Value).ToArray();
        bool IsClean(int cut) => cut == 0 || cut == ids.Length || starts[cut] >= ends[cut - 1];

        Assert.NotEmpty(chunks);
        var rebuilt = new List<int>(ids.Length);
        var start = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i];
            var end = start + chunk.TokenCount;
            Assert.Equal(i, chunk.Index);
            Assert.InRange(chunk.TokenCount, 1, max);
            Assert.InRange(end, start + overlap + 1, ids.Length);
            Assert.Equal(trimmed[starts[start]..ends[end - 1]], chunk.Text);
            if (IsClean(start) && IsClean(end))
            {
                Assert.Equal(Tokenizer.Decode(ids[start..end]), chunk.Text);
            }

            rebuilt.AddRange(ids[(i == 0 ? start : start + overlap)..end]);

            if (i < chunks.Count - 1)
            {
                Assert.True(start + max < ids.Length, "only the last chunk may end early because the text ran out");
                AssertEndIsBestBoundary(trimmed, starts, IsClean, start, end, max, overlap);
                if (overlap > 0 && IsClean(end - overlap) && IsClean(end))
                {
                    var shared = Tokenizer.Decode(ids[(end - overlap)..end]);
                    Assert.EndsWith(shared, chunk.Text, StringComparison.Ordinal);
                    Assert.StartsWith(shared, chunks[i + 1].Text, StringComparison.Ordinal);
                }

                start = end - overlap;
            }
            else
            {
                Assert.Equal(ids.Length, end);
            }
        }

        Assert.Equal(ids, rebuilt);
        return chunks;
    }

    private static void AssertEndIsBestBoundary(string text, int[] starts, Func<int, bool> isClean, int start, int end, int max, int overlap)
    {
        var hardEnd = start + max;
        var lowest = Math.Max(hardEnd - (max / 4), start + overlap + 1);
        Assert.InRange(end, lowest, hardEnd);

        var bestRank = -1;
        var bestCut = hardEnd;
        for (var cut = hardEnd; cut >= lowest; cut--)
        {
            var rank = isClean(cut) ? Rank(text, starts[cut]) : 0;
            if (rank > bestRank)
            {
                (bestRank, bestCut) = (rank, cut);
            }
        }

        Assert.True(bestCut == end, $"chunk [{start}, {end}) should end at {bestCut} (rank {bestRank}), not rank {(isClean(end) ? Rank(text, starts[end]) : 0)}");
    }

    // 5 blank line, 4 line break, 3 sentence end, 2 word, 1 other token boundary.
    private static int Rank(string text, int cut)
    {
        var left = cut;
        while (left > 0 && char.IsWhiteSpace(text[left - 1]))
        {
            left--;
        }

        var right = cut;
        while (right < text.Length && char.IsWhiteSpace(text[right]))
        {
            right++;
        }

        var run = text[left..right].Replace("\r\n", "\n", StringComparison.Ordinal);
        var breaks = run.Count(c => c is '\n' or '\r' or '\u2028' or '\u0085') + (2 * run.Count(c => c == '\u2029'));
        var before = left;
        while (before > 0 && text[before - 1] is '"' or ')')
        {
            before--;
        }

        return breaks switch
        {
            >= 2 => 5,
            1 => 4,
            _ when run.Length > 0 && before > 0 && text[before - 1] is '.' or '!' or '?' or '…' or '。' => 3,
            _ when run.Length == 0 && cut > 0 && text[cut - 1] is '。' or '！' or '？' => 3,
            _ when run.Length > 0 => 2,
            _ => 1,
        };
    }
}
