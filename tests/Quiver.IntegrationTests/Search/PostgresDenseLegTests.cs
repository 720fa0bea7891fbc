using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Search;

/// <summary>
/// PostgreSQL's dense leg on its paths, with the switch-over lowered to 30 chunks: a 60-chunk store goes through
/// pgvector's HNSW index (seen in the index's scan count), a 20-chunk store through the exact index this process
/// keeps of it (loaded once, then answered from memory until the store changes) or, with that cache off, through
/// pgvector's exact scan (the HNSW count does not move); every path ranks exactly like cosine similarity over the
/// test embedder's vectors, with a filter returning min(N, k).
/// </summary>
public sealed class PostgresDenseLegTests : IAsyncLifetime
{
    private const string Prefix = "/v1";
    private static readonly string[] Topics = ["security", "billing", "shipping", "returns", "passwords", "invoices", "tracking", "receipts", "accounts", "refunds"];

    private PostgresQuiverFactory? _factory;

    public PostgresDenseLegTests() => PostgresTestServer.RequireOrSkip();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _factory?.DisposeAsync() ?? ValueTask.CompletedTask;

    [Fact]
    public async Task Small_stores_are_searched_from_memory_until_they_change_and_rank_by_cosine()
    {
        _factory = (PostgresQuiverFactory)new PostgresQuiverFactory().With("Quiver:Search:PostgresHnswMinChunks", "30");
        var client = _factory.CreateApiClient(onBehalfOf: "dense-user");
        var search = (Quiver.Core.Storage.Postgres.PostgresChunkSearchStore)_factory.Services.GetRequiredService<Quiver.Core.Search.IChunkSearchStore>();
        var (small, smallTexts) = await SeedAsync(client, 20);
        const string query = "security and billing";
        var body = $$$"""{"query":"{{{query}}}","max_num_results":10,"ranking_options":{"ranker":"none"}}""";

        await AssertCosineRankingAsync(await SearchAsync(client, small, body), smallTexts, query);
        var loads = search.ResidentLoads;
        Assert.True(loads >= 1, "the first search loads the store's vectors");
        await AssertCosineRankingAsync(await SearchAsync(client, small, body), smallTexts, query);
        var filtered = """{"query":"zebra","max_num_results":50,"ranking_options":{"ranker":"none"},"filters":{"type":"eq","key":"group","value":"b"}}""";
        Assert.Equal(13, (await SearchAsync(client, small, filtered)).Count(d => (string?)d["attributes"]!["group"] == "b"));
        Assert.Equal(loads, search.ResidentLoads); // unchanged store: answered from memory

        // A new file shows on the very next search (its publication bumped the store's chunk version); a detached one is gone.
        const string text = "security and billing";
        var fileId = (string)(await client.UploadAsync(Prefix, "exact.txt", text))["id"]!;
        await client.AttachAsync(Prefix, small, fileId);
        Assert.Equal("completed", (string?)(await client.WaitForFileAsync(Prefix, small, fileId))["status"]);
        smallTexts[fileId] = text;
        var hits = await SearchAsync(client, small, body);
        Assert.Equal(fileId, (string?)hits[0]["file_id"]);
        await AssertCosineRankingAsync(hits, smallTexts, query);
        Assert.Equal(loads + 1, search.ResidentLoads);

        using (var detached = await client.DeleteAsync($"{Prefix}/vector_stores/{small}/files/{fileId}", Ct))
        {
            detached.EnsureSuccessStatusCode();
        }

        smallTexts.Remove(fileId);
        var afterDetach = await SearchAsync(client, small, body);
        Assert.DoesNotContain(fileId, afterDetach.Select(h => (string?)h["file_id"]));
        await AssertCosineRankingAsync(afterDetach, smallTexts, query);
    }

    [Fact]
    public async Task Large_stores_use_the_hnsw_index_small_ones_the_exact_scan_and_both_rank_by_cosine()
    {
        // The cache off: the small store goes through pgvector's exact scan.
        _factory = (PostgresQuiverFactory)new PostgresQuiverFactory()
            .With("Quiver:Search:PostgresHnswMinChunks", "30").With("Quiver:Search:PostgresStoreCacheMegabytes", "0");
        var client = _factory.CreateApiClient(onBehalfOf: "dense-user");
        var (large, largeTexts) = await SeedAsync(client, 60);
        var (small, smallTexts) = await SeedAsync(client, 20);
        const string query = "security and billing";
        var body = $$$"""{"query":"{{{query}}}","max_num_results":10,"ranking_options":{"ranker":"none"}}""";

        // Per-backend statistics reach pg_stat_* some time after a transaction (an idle backend's up to 10 s later), so
        // the seeding's (e.g. the HNSW index build's table scan) are flushed first; both counters of one search then
        // arrive together.
        await _factory.FlushStatisticsAsync();
        var before = await ScansAsync();
        await AssertCosineRankingAsync(await SearchAsync(client, large, body), largeTexts, query);
        var afterLarge = await WaitForScansAsync(s => s.Hnsw > before.Hnsw, "the large store's search to scan the HNSW index");
        Assert.Equal(before.Other, afterLarge.Other);

        await AssertCosineRankingAsync(await SearchAsync(client, small, body), smallTexts, query);
        var afterSmall = await WaitForScansAsync(s => s.Other > afterLarge.Other, "the small store's search to scan chunk_vectors exactly");
        Assert.Equal(afterLarge.Hnsw, afterSmall.Hnsw);

        // Filters keep min(N, k) on both paths: 40 of the large store's chunks and 13 of the small one's are in group "b".
        var filtered = """{"query":"zebra","max_num_results":50,"ranking_options":{"ranker":"none"},"filters":{"type":"eq","key":"group","value":"b"}}""";
        Assert.Equal(40, (await SearchAsync(client, large, filtered)).Count(d => (string?)d["attributes"]!["group"] == "b"));
        Assert.Equal(13, (await SearchAsync(client, small, filtered)).Count(d => (string?)d["attributes"]!["group"] == "b"));
    }

    private static async Task AssertCosineRankingAsync(List<JsonNode> hits, Dictionary<string, string> texts, string query)
    {
        var expected = texts.Values.Select(t => Cosine(query, t)).OrderDescending().Take(10).ToList();
        Assert.Equal(expected.Count, hits.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], (double)hits[i]["score"]!, 1e-4);
            Assert.Equal(Cosine(query, texts[(string)hits[i]["file_id"]!]), (double)hits[i]["score"]!, 1e-4);
        }
    }

    private static async Task<(string StoreId, Dictionary<string, string> Texts)> SeedAsync(HttpClient client, int files)
    {
        var storeId = (string)(await client.CreateStoreAsync(Prefix))["id"]!;
        var texts = new Dictionary<string, string>();
        for (var i = 0; i < files; i++)
        {
            var text = $"note {i} about {Topics[i % Topics.Length]} and {Topics[(i * 7 + 3) % Topics.Length]} number{i}";
            var fileId = (string)(await client.UploadAsync(Prefix, $"n{i}.txt", text))["id"]!;
            await client.AttachAsync(Prefix, storeId, fileId, $$""","attributes":{"group":"{{(i % 3 == 0 ? "a" : "b")}}"}""");
            texts[fileId] = text;
        }

        foreach (var fileId in texts.Keys)
        {
            Assert.Equal("completed", (string?)(await client.WaitForFileAsync(Prefix, storeId, fileId))["status"]);
        }

        return (storeId, texts);
    }

    private async Task<(long Hnsw, long Other)> WaitForScansAsync(Func<(long Hnsw, long Other), bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var scans = await ScansAsync();
            if (condition(scans))
            {
                return scans;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>
    /// Scans of <c>chunk_vectors</c> so far: through its HNSW indexes, and the exact path's ways (sequential, or the
    /// per-store index). Primary-key scans are left out: deletes cascading from chunks use them, and an idle pooled
    /// backend may report those from the seeding seconds later (PostgreSQL flushes an idle backend's statistics late).
    /// </summary>
    private async Task<(long Hnsw, long Other)> ScansAsync()
    {
        await using var connection = new NpgsqlConnection(_factory!.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT COALESCE(SUM(idx_scan), 0) FROM pg_stat_user_indexes WHERE indexrelname LIKE 'ix_chunk_vectors_hnsw_%')::bigint,
                   (SELECT COALESCE(seq_scan, 0) FROM pg_stat_user_tables WHERE relname = 'chunk_vectors')
                   + (SELECT COALESCE(SUM(idx_scan), 0) FROM pg_stat_user_indexes WHERE relname = 'chunk_vectors'
                      AND indexrelname NOT LIKE 'ix_chunk_vectors_hnsw_%' AND indexrelname <> 'chunk_vectors_pkey')::bigint
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<List<JsonNode>> SearchAsync(HttpClient client, string storeId, string body) =>
        [.. (await client.PostJsonAsync($"{Prefix}/vector_stores/{storeId}/search", body))["data"]!.AsArray().Select(d => d!)];

    private static double Cosine(string a, string b) =>
        System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(TestEmbeddingGenerator.Embed(a), TestEmbeddingGenerator.Embed(b));
}
