using Quiver.Core.Chunking;
using Quiver.IntegrationTests.Infrastructure;

namespace Quiver.IntegrationTests.Ingestion;

/// <summary>The static chunking strategy, checked on the published chunk rows against the cl100k tokenizer.</summary>
public sealed class StaticChunkingTests(QuiverFactory factory) : IClassFixture<QuiverFactory>
{
    private const string Static = """{"type":"static","static":{"max_chunk_size_tokens":100,"chunk_overlap_tokens":20}}""";

    [Theory]
    [MemberData(nameof(Api.Prefixes), MemberType = typeof(Api))]
    public async Task Static_chunks_respect_the_size_overlap_and_cover_the_text(string prefix)
    {
        var client = factory.NewUser();
        var fileId = (string)(await client.UploadAsync(prefix, "long.txt", DocumentFixtures.LongText(12)))["id"]!;
        var storeId = (string)(await client.CreateStoreAsync(prefix))["id"]!;

        var attached = await client.AttachAsync(prefix, storeId, fileId, ""","chunking_strategy":""" + Static);
        Assert.Equal(Static, attached["chunking_strategy"]!.ToJsonString());
        var done = await client.WaitForFileAsync(prefix, storeId, fileId);
        Assert.Equal("completed", (string?)done["status"]);
        Assert.Equal(Static, done["chunking_strategy"]!.ToJsonString());

        var parsed = await client.ParsedTextAsync(prefix, storeId, fileId);
        var chunks = await factory.ReadChunksAsync(storeId, fileId);
        var tokenizer = TextChunker.Instance;
        var total = tokenizer.CountTokens(parsed);
        Assert.True(chunks.Count >= total / 80, $"{chunks.Count} chunks for {total} tokens");
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Index));

        var rebuilt = new System.Text.StringBuilder(chunks[0].Text);
        for (var i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i];
            Assert.True(chunk.TokenCount is > 0 and <= 100, $"chunk {i} records {chunk.TokenCount} tokens");
            Assert.True(tokenizer.CountTokens(chunk.Text) <= 100, $"chunk {i} has {tokenizer.CountTokens(chunk.Text)} tokens: {chunk.Text}");
            if (i == 0)
            {
                continue;
            }

            // The next chunk starts with the previous one's last 20 tokens.
            var previous = chunks[i - 1].Text;
            var overlap = LongestSuffixPrefix(previous, chunk.Text);
            Assert.True(overlap > 0, $"chunks {i - 1} and {i} do not overlap");
            Assert.Equal(20, tokenizer.CountTokens(chunk.Text[..overlap]));
            rebuilt.Append(chunk.Text.AsSpan(overlap));
        }

        // The non-overlapping parts put back together are the whole document.
        Assert.Equal(parsed.Trim(), rebuilt.ToString());
    }

    [Fact]
    public async Task Auto_chunking_is_echoed_as_requested_in_mka1_and_resolved_in_openai()
    {
        var client = factory.NewUser();
        var fileId = (string)(await client.UploadAsync("/v1", "a.txt", "Short text about herons."))["id"]!;
        var storeId = (string)(await client.CreateStoreAsync("/v1", $$"""{"file_ids":["{{fileId}}"]}"""))["id"]!;
        await client.WaitForFileAsync("/v1", storeId, fileId);
        var openAi = await client.GetJsonAsync($"/v1/vector_stores/{storeId}/files/{fileId}");
        var mka1 = await client.GetJsonAsync($"/api/v1/llm/vector_stores/{storeId}/files/{fileId}");
        Assert.Equal("""{"type":"static","static":{"max_chunk_size_tokens":200,"chunk_overlap_tokens":50}}""", openAi["chunking_strategy"]!.ToJsonString());
        Assert.Equal("""{"type":"auto"}""", mka1["chunking_strategy"]!.ToJsonString());
    }

    /// <summary>Length of the longest suffix of <paramref name="a"/> that is a prefix of <paramref name="b"/>.</summary>
    private static int LongestSuffixPrefix(string a, string b)
    {
        for (var length = Math.Min(a.Length, b.Length); length > 0; length--)
        {
            if (a.AsSpan(a.Length - length).SequenceEqual(b.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }
}
