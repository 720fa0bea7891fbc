using System.Text.Json.Nodes;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>
/// Each process keeps its own copy of a small store's vectors and postings (PostgresChunkSearchStore); a change
/// published through another process must show in this one's very next search, dense and lexical, not after some
/// refresh interval.
/// </summary>
public sealed partial class MultiProcessPostgresTests
{
    [Fact]
    public async Task A_change_published_by_one_process_shows_in_the_other_processs_next_dense_and_lexical_search()
    {
        var (a, b) = await StartTwoAsync(leaseSeconds: 30);
        string[] texts =
        [
            "Glaciers carve valleys over thousands of years.",
            "The bakery sells sourdough bread every morning.",
            "Compilers translate source code into machine instructions.",
            "Migrating birds follow the coastline southwards in autumn.",
        ];
        var storeId = (string)(await a.Client.CreateStoreAsync("/v1"))["id"]!;
        var ids = new List<string>();
        foreach (var text in texts)
        {
            var id = (string)(await a.Client.UploadAsync("/v1", "doc.txt", text))["id"]!;
            await a.Client.AttachAsync("/v1", storeId, id);
            ids.Add(id);
        }

        foreach (var id in ids)
        {
            Assert.Equal("completed", (string?)(await a.Client.WaitForFileAsync("/v1", storeId, id))["status"]);
        }

        // A loads the store into memory and answers from it.
        Assert.Equal(ids[2], (await DenseSearchAsync(a, storeId, texts[2]))[0]);
        Assert.Equal([ids[1]], await LexicalSearchAsync(a, storeId, "sourdough lighthouse"));

        // Published through B: A's next search has it.
        const string added = "Lighthouse keepers record the tides at dawn.";
        var addedId = (string)(await b.Client.UploadAsync("/v1", "new.txt", added))["id"]!;
        await b.Client.AttachAsync("/v1", storeId, addedId);
        Assert.Equal("completed", (string?)(await b.Client.WaitForFileAsync("/v1", storeId, addedId))["status"]);
        Assert.Equal(addedId, (await DenseSearchAsync(a, storeId, added))[0]);
        Assert.Equal(new[] { ids[1], addedId }.Order(StringComparer.Ordinal), (await LexicalSearchAsync(a, storeId, "sourdough lighthouse")).Order(StringComparer.Ordinal));

        // Detached through B: gone from A's next search.
        using (var detached = await b.Client.DeleteAsync($"/v1/vector_stores/{storeId}/files/{addedId}", Ct))
        {
            detached.EnsureSuccessStatusCode();
        }

        Assert.DoesNotContain(addedId, await DenseSearchAsync(a, storeId, added));
        Assert.Equal([ids[1]], await LexicalSearchAsync(a, storeId, "sourdough lighthouse"));

        // Re-attached (new chunks under the same file id), then the file deleted: A follows both.
        await b.Client.AttachAsync("/v1", storeId, addedId);
        Assert.Equal("completed", (string?)(await b.Client.WaitForFileAsync("/v1", storeId, addedId))["status"]);
        Assert.Equal(addedId, (await DenseSearchAsync(a, storeId, added))[0]);
        Assert.Contains(addedId, await LexicalSearchAsync(a, storeId, "sourdough lighthouse"));
        using (var deleted = await b.Client.DeleteAsync($"/v1/files/{addedId}", Ct))
        {
            deleted.EnsureSuccessStatusCode();
        }

        var final = await DenseSearchAsync(a, storeId, added);
        Assert.DoesNotContain(addedId, final);
        Assert.Equal(ids.Order(StringComparer.Ordinal), final.Order(StringComparer.Ordinal));
        Assert.Equal([ids[1]], await LexicalSearchAsync(a, storeId, "sourdough lighthouse"));
    }

    /// <summary>The file ids of a lexical-only search (BM25 normalised by the best; dense hits weigh 0 and fall under the threshold).</summary>
    private static async Task<List<string>> LexicalSearchAsync(ServerProcess server, string storeId, string query)
    {
        var body = new JsonObject
        {
            ["query"] = query,
            ["max_num_results"] = 10,
            ["ranking_options"] = new JsonObject
            {
                ["hybrid_search"] = new JsonObject { ["embedding_weight"] = 0, ["text_weight"] = 1 },
                ["score_threshold"] = 0.001,
            },
        };
        var result = await server.Client.PostJsonAsync($"/v1/vector_stores/{storeId}/search", body.ToJsonString());
        return [.. result["data"]!.AsArray().Select(d => (string)d!["file_id"]!)];
    }

    /// <summary>The file ids of a dense-only search (cosine, no lexical leg), best first.</summary>
    private static async Task<List<string>> DenseSearchAsync(ServerProcess server, string storeId, string query)
    {
        var body = new JsonObject { ["query"] = query, ["max_num_results"] = 10, ["ranking_options"] = new JsonObject { ["ranker"] = "none" } };
        var result = await server.Client.PostJsonAsync($"/v1/vector_stores/{storeId}/search", body.ToJsonString());
        return [.. result["data"]!.AsArray().Select(d => (string)d!["file_id"]!)];
    }
}
