using Microsoft.ML.Tokenizers;

namespace Quiver.Core.Chunking;

/// <summary>
/// Splits text into chunks measured in <c>cl100k_base</c> tokens, implementing the vector stores
/// API <c>static</c> chunking strategy (<c>max_chunk_size_tokens</c>, <c>chunk_overlap_tokens</c>).
/// Thread-safe; use <see cref="Instance"/>, which loads the tokenizer once.
/// </summary>
/// <remarks>
/// <para>
/// Semantics of <see cref="Chunk"/>: leading and trailing white space of the document is dropped
/// and the rest is tokenized once (in <see cref="TokenizationSegmenter"/> segments, which give the
/// same tokens as a single encode except inside pathological runs; special-token text such as
/// <c>&lt;|endoftext|&gt;</c> counts as one token, as the tokenizer does by default). Every chunk is
/// a contiguous range <c>[start, end)</c> of those tokens with <c>end - start &lt;= max</c>. The first chunk starts at token 0, the last ends at
/// the last token, and chunk i+1 starts exactly <c>overlap</c> tokens before chunk i ends
/// (<c>start' = end - overlap</c>), so consecutive chunks share exactly <c>overlap</c> tokens and
/// the non-overlapping parts concatenate to the whole token sequence.
/// </para>
/// <para>
/// Ends: when the rest of the document fits in <c>max</c> tokens it becomes the last chunk.
/// Otherwise the end is chosen among the cuts <c>e</c> in the tail window
/// <c>[max(start + max - max/4, start + overlap + 1), start + max]</c>, taking the best
/// <see cref="BoundaryKind"/> (blank line &gt; line break &gt; sentence end &gt; word &gt; any token
/// boundary &gt; mid-character) and, among equals, the latest. The window is the last quarter of
/// the budget: a chunk gives up at most 25% of its tokens for a cleaner end, so even at the largest
/// overlap (max/2) every step advances at least max/4 tokens; the lower bound
/// <c>start + overlap + 1</c> guarantees progress for any overlap.
/// </para>
/// <para>
/// Text: a chunk's <see cref="TextChunk.Text"/> is the source slice from the first character of
/// its first token to the last character of its last token, not decoded bytes and not trimmed, so
/// it may begin or end with white space. A character whose UTF-8 bytes are split across tokens
/// (some emoji, rare CJK) is included whole in every chunk that holds any of its tokens, so no
/// chunk contains U+FFFD; cuts avoid such splits whenever the window has another boundary.
/// <see cref="TextChunk.TokenCount"/> is always the size of the token range.
/// </para>
/// </remarks>
internal sealed class TextChunker
{
    /// <summary>Smallest <c>max_chunk_size_tokens</c> the static strategy accepts.</summary>
    public const int MinChunkSizeTokens = 100;

    /// <summary>Largest <c>max_chunk_size_tokens</c> the static strategy accepts.</summary>
    public const int MaxChunkSizeTokens = 4096;

    /// <summary>The tail window for choosing an end is <c>max / TailWindowDivisor</c> tokens.</summary>
    public const int TailWindowDivisor = 4;

    private readonly TiktokenTokenizer _tokenizer = TiktokenTokenizer.CreateForEncoding("cl100k_base");

    private TextChunker()
    {
    }

    /// <summary>The process-wide chunker; the tokenizer's vocabulary is loaded once.</summary>
    public static TextChunker Instance { get; } = new();

    /// <summary>Number of <c>cl100k_base</c> tokens in <paramref name="text"/>, as is (not trimmed).</summary>
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var count = 0;
        for (var segment = 0; segment < text.Length;)
        {
            var segmentEnd = TokenizationSegmenter.NextSegmentEnd(text, segment, text.Length);
            count += _tokenizer.CountTokens(text.AsSpan(segment, segmentEnd - segment));
            segment = segmentEnd;
        }

        return count;
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> unless 100 ≤ <paramref name="maxChunkTokens"/>
    /// ≤ 4096 and 0 ≤ <paramref name="overlapTokens"/> ≤ <paramref name="maxChunkTokens"/> / 2.
    /// </summary>
    public static void ValidateStatic(int maxChunkTokens, int overlapTokens)
    {
        if (maxChunkTokens is < MinChunkSizeTokens or > MaxChunkSizeTokens)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxChunkTokens),
                maxChunkTokens,
                $"max_chunk_size_tokens must be between {MinChunkSizeTokens} and {MaxChunkSizeTokens}.");
        }

        if (overlapTokens < 0 || overlapTokens > maxChunkTokens / 2)
        {
            throw new ArgumentOutOfRangeException(
                nameof(overlapTokens),
                overlapTokens,
                $"chunk_overlap_tokens must be between 0 and half of max_chunk_size_tokens ({maxChunkTokens / 2}).");
        }
    }

    /// <summary>
    /// Chunks <paramref name="text"/> with the static strategy; see the type's remarks for the exact
    /// rules. White-space-only text gives no chunks; text of at most
    /// <paramref name="maxChunkTokens"/> tokens gives one.
    /// </summary>
    public IReadOnlyList<TextChunk> Chunk(string text, int maxChunkTokens, int overlapTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        ValidateStatic(maxChunkTokens, overlapTokens);

        var first = 0;
        while (first < text.Length && char.IsWhiteSpace(text[first]))
        {
            first++;
        }

        if (first == text.Length)
        {
            return [];
        }

        var last = text.Length;
        while (char.IsWhiteSpace(text[last - 1]))
        {
            last--;
        }

        // Offsets are character ranges of the source; a token that holds only part of a
        // character's bytes reports the whole character, so consecutive ranges can overlap.
        var starts = new List<int>((last - first) / 3);
        var ends = new List<int>((last - first) / 3);
        for (var segment = first; segment < last;)
        {
            var segmentEnd = TokenizationSegmenter.NextSegmentEnd(text, segment, last);
            foreach (var token in _tokenizer.EncodeToTokens(text.AsSpan(segment, segmentEnd - segment), out _))
            {
                starts.Add(segment + token.Offset.Start.Value);
                ends.Add(segment + token.Offset.End.Value);
            }

            segment = segmentEnd;
        }

        var count = starts.Count;
        var chunks = new List<TextChunk>((count / (maxChunkTokens - overlapTokens)) + 1);
        var start = 0;
        while (true)
        {
            var hardEnd = start + maxChunkTokens;
            var end = hardEnd >= count
                ? count
                : ChooseEnd(text, starts, ends, start, hardEnd, overlapTokens, maxChunkTokens / TailWindowDivisor);
            chunks.Add(new TextChunk(chunks.Count, text[starts[start]..ends[end - 1]], end - start));
            if (end == count)
            {
                return chunks;
            }

            start = end - overlapTokens;
        }
    }

    // Best cut in the tail window, scanning from the hard end backwards so that the first cut seen
    // of each kind is the latest one (the longest chunk for that quality).
    private static int ChooseEnd(string text, List<int> starts, List<int> ends, int start, int hardEnd, int overlap, int window)
    {
        var lowest = Math.Max(hardEnd - window, start + overlap + 1);
        var best = BoundaryKind.MidCharacter;
        var bestEnd = hardEnd;
        for (var e = hardEnd; e >= lowest; e--)
        {
            if (starts[e] < ends[e - 1])
            {
                continue;
            }

            var kind = ChunkBoundaryFinder.Classify(text, starts[e]);
            if (kind > best)
            {
                best = kind;
                bestEnd = e;
                if (kind == BoundaryKind.Paragraph)
                {
                    break;
                }
            }
        }

        return bestEnd;
    }
}
