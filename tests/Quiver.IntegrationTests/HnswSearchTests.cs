using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Quiver.Core.Search;
using Quiver.Core.Search.Indexes;
using Quiver.Core.Storage.Sqlite;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>
/// The embedded backend's HNSW path, with the switch-over lowered to 40 chunks so a small store crosses it:
/// dense results match exact cosine ranking, filters return min(N, k) on both the graph and the exact path,
/// and the graph saved beside the database is loaded after a restart and follows later changes.
/// </summary>
public sealed class HnswSearchTests : IDisposable
{
    private const int Files = 60; // one chunk each: 20 in group "a", 40 in group "b"
    private const string Prefix = "/v1";

    private static QuiverFactory Configure(QuiverFactory factory) => factory
        .With("Quiver:Search:HnswMinChunks", "40")
        .With("Quiver:Search:HnswSaveIntervalSeconds", "1");

    private readonly string _dataDir = Directory.CreateTempSubdirectory("quiver-hnsw-").FullName;

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);

    [Fact]
    public async Task Large_store_searches_through_the_graph_with_filters_and_survives_a_restart()
    {
        await using var first = Configure(QuiverFactory.OnDataDir(_dataDir));
        var client = first.CreateApiClient(onBehalfOf: "hnsw-user");
        var storeId = (string)(await client.CreateStoreAsync(Prefix))["id"]!;
        var texts = new Dictionary<string, string>();
        for (var i = 0; i < Files; i++)
        {
            var text = $"note {i} about {Topics[i % Topics.Length]} and {Topics[(i * 7 + 3) % Topics.Length]} number{i}";
            var fileId = (string)(await client.UploadAsync(Prefix, $"n{i}.txt", text))["id"]!;
            await client.AttachAsync(Prefix, storeId, fileId, $$""","attributes":{"group":"{{(i % 3 == 0 ? "a" : "b")}}","n":{{i}}}""");
            texts[fileId] = text;
        }

        foreach (var fileId in texts.Keys)
        {
            Assert.Equal("completed", (string?)(await client.WaitForFileAsync(Prefix, storeId, fileId))["status"]);
        }

        var graph = await WaitForGraphAsync(first, client, storeId);
        Assert.False(graph.LoadedFromSavedFile);

        // Dense ranking through the graph equals exact cosine ranking over the stored vectors.
        const string query = "security and billing";
        var dense = await SearchAsync(client, storeId, $$$"""{"query":"{{{query}}}","max_num_results":10,"ranking_options":{"ranker":"none"}}""");
        // Compared by score, so files tied at the 10th place may come back either way round.
        var expected = texts.Values.Select(t => Cosine(query, t)).OrderDescending().Take(10).ToList();
        var scores = dense.Select(d => (double)d["score"]!).ToList();
        Assert.Equal(expected.Count, scores.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], scores[i], tolerance: 1e-4);
            Assert.Equal(Cosine(query, texts[(string)dense[i]["file_id"]!]), scores[i], tolerance: 1e-4);
        }

        // 40 allowed chunks (≥ the switch-over): the graph walk applies the filter; 20 allowed: exact. min(N, k) either way.
        var groupB = await SearchAsync(client, storeId, """{"query":"zebra","max_num_results":50,"ranking_options":{"ranker":"none"},"filters":{"type":"eq","key":"group","value":"b"}}""");
        Assert.Equal(40, groupB.Count);
        Assert.All(groupB, d => Assert.Equal("b", (string?)d["attributes"]!["group"]));
        var groupA = await SearchAsync(client, storeId, """{"query":"zebra","max_num_results":50,"filters":{"type":"eq","key":"group","value":"a"}}""");
        Assert.Equal(20, groupA.Count);
        Assert.All(groupA, d => Assert.Equal("a", (string?)d["attributes"]!["group"]));

        // The graph is saved beside the database.
        var graphPath = HnswStoreGraph.GraphPath(Path.Combine(first.DataDir, "indexes"), storeId);
        await WaitUntilAsync(() => File.Exists(graphPath) && File.Exists(graphPath + ".keys"), "the graph was never saved");
        await first.DisposeAsync(); // a clean shutdown (the data directory stays; disposing twice is harmless)

        await using var second = Configure(QuiverFactory.OnDataDir(_dataDir));
        var again = second.CreateApiClient(onBehalfOf: "hnsw-user");
        var reloaded = await WaitForGraphAsync(second, again, storeId);
        Assert.True(reloaded.LoadedFromSavedFile);

        // A change after the restart reaches the graph: the top file, detached, is no longer found.
        var top = (string)dense[0]["file_id"]!;
        await again.DeleteAsync($"{Prefix}/vector_stores/{storeId}/files/{top}", Ct);
        var afterVersion = await WaitForGraphCaughtUpAsync(second, again, storeId);
        Assert.True(afterVersion > 0);
        var after = await SearchAsync(again, storeId, $$$"""{"query":"{{{query}}}","max_num_results":10,"ranking_options":{"ranker":"none"}}""");
        Assert.DoesNotContain(after, d => (string)d["file_id"]! == top);
        Assert.Equal(10, after.Count);
    }

    private static readonly string[] Topics = ["security", "billing", "shipping", "returns", "passwords", "invoices", "tracking", "receipts", "accounts", "refunds"];

    private static async Task<List<JsonNode>> SearchAsync(HttpClient client, string storeId, string body) =>
        [.. (await client.PostJsonAsync($"{Prefix}/vector_stores/{storeId}/search", body))["data"]!.AsArray().Select(d => d!)];

    private static double Cosine(string a, string b)
    {
        var x = TestEmbeddingGenerator.Embed(a);
        var y = TestEmbeddingGenerator.Embed(b);
        return System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(x, y);
    }

    /// <summary>Searches (which loads the store's index and starts its graph) until the graph has caught up.</summary>
    private static async Task<HnswStoreGraph> WaitForGraphAsync(QuiverFactory factory, HttpClient client, string storeId)
    {
        await WaitForGraphCaughtUpAsync(factory, client, storeId);
        return Store(factory).GraphStateOf(storeId).Graph!;
    }

    private static async Task<long> WaitForGraphCaughtUpAsync(QuiverFactory factory, HttpClient client, string storeId)
    {
        long version = -1;
        await WaitUntilAsync(async () =>
        {
            await SearchAsync(client, storeId, """{"query":"warm up"}""");
            var (graph, current) = Store(factory).GraphStateOf(storeId);
            version = current;
            return graph is not null && graph.AppliedVersion == current;
        }, "the graph never caught up with the store");
        return version;
    }

    private static SqliteChunkSearchStore Store(QuiverFactory factory) =>
        (SqliteChunkSearchStore)factory.Services.GetRequiredService<IChunkSearchStore>();

    private static Task WaitUntilAsync(Func<bool> condition, string failure) => WaitUntilAsync(() => Task.FromResult(condition()), failure);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(50, Ct);
        }
    }
}
