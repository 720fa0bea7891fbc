using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Quiver.Core.Ingestion;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Batches;

/// <summary>Helpers shared by the file batch tests: batch calls, full listings, waits and row probes.</summary>
internal static class BatchTestKit
{
    public static readonly string[] Statuses = ["in_progress", "completed", "failed", "cancelled"];

    public static HttpClient NewUser(this QuiverFactory factory) =>
        factory.CreateApiClient(onBehalfOf: "user-" + Guid.NewGuid().ToString("N"));

    public static async Task<string[]> UploadManyAsync(this HttpClient client, int count, string prefix = "/v1", string stem = "doc")
    {
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = (string)(await client.UploadAsync(prefix, $"{stem}{i}.txt", $"Document {stem} {i} mentions zebra{i} and the shared word quiver."))["id"]!;
        }

        return ids;
    }

    public static string FileIdsJson(IEnumerable<string> ids) => "[" + string.Join(",", ids.Select(id => $"\"{id}\"")) + "]";

    public static Task<JsonObject> CreateBatchAsync(this HttpClient client, string storeId, IEnumerable<string> fileIds, string prefix = "/v1") =>
        client.PostJsonAsync($"{prefix}/vector_stores/{storeId}/file_batches", $$"""{"file_ids":{{FileIdsJson(fileIds)}}}""");

    public static Task<JsonObject> CancelAsync(this HttpClient client, string storeId, string batchId, string prefix = "/v1") =>
        client.PostJsonAsync($"{prefix}/vector_stores/{storeId}/file_batches/{batchId}/cancel", "");

    public static Task<JsonObject> GetBatchAsync(this HttpClient client, string storeId, string batchId, string prefix = "/v1") =>
        client.GetJsonAsync($"{prefix}/vector_stores/{storeId}/file_batches/{batchId}");

    /// <summary>Every item of a list, following <c>after</c> cursors (100 per page).</summary>
    public static async Task<List<JsonObject>> ListAllAsync(this HttpClient client, string url)
    {
        var items = new List<JsonObject>();
        string? after = null;
        var separator = url.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        while (true)
        {
            var page = await client.GetJsonAsync($"{url}{separator}limit=100&order=asc" + (after is null ? "" : $"&after={after}"));
            items.AddRange(page["data"]!.AsArray().Select(i => i!.AsObject()));
            if (!(bool)page["has_more"]!)
            {
                return items;
            }

            after = (string)page["last_id"]!;
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds (never a fixed sleep).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after {timeoutSeconds}s waiting for {what}.");
            await Task.Delay(10, Ct);
        }
    }

    public static Task WaitUntilAsync(Func<bool> condition, string what, int timeoutSeconds = 30) =>
        WaitUntilAsync(() => Task.FromResult(condition()), what, timeoutSeconds);

    /// <summary>Waits until no ingestion job runs in the host (fenced work has unwound).</summary>
    public static Task WaitForIdleWorkersAsync(this QuiverFactory factory)
    {
        var signals = factory.Services.GetRequiredService<IngestionSignals>();
        return WaitUntilAsync(() => signals.RunningCount == 0, "ingestion workers to go idle");
    }

    public static Task<long> CountJobsAsync(this QuiverFactory factory, string storeId) =>
        factory.ScalarAsync("SELECT COUNT(*) FROM ingestion_jobs WHERE vector_store_id = @s", ("@s", storeId));

    public static Task<long> CountBatchesAsync(this QuiverFactory factory, string storeId) =>
        factory.ScalarAsync("SELECT COUNT(*) FROM file_batches WHERE vector_store_id = @s", ("@s", storeId));

    public static Task<long> CountMembersAsync(this QuiverFactory factory, string storeId) =>
        factory.ScalarAsync("SELECT COUNT(*) FROM file_batch_members m JOIN file_batches b ON b.id = m.batch_id WHERE b.vector_store_id = @s", ("@s", storeId));

    /// <summary>
    /// The batch and store invariants after any interleaving: counts add up, counts agree with
    /// the filtered listings, no cancelled (or failed) file has chunks or FTS rows, and every
    /// completed file has its chunks mirrored in FTS.
    /// </summary>
    public static async Task AssertConsistentAsync(this QuiverFactory factory, HttpClient client, string storeId, string batchId, string prefix = "/v1")
    {
        var batch = await client.GetBatchAsync(storeId, batchId, prefix);
        var store = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}");
        foreach (var (obj, url) in new[]
        {
            (batch, $"{prefix}/vector_stores/{storeId}/file_batches/{batchId}/files"),
            (store, $"{prefix}/vector_stores/{storeId}/files"),
        })
        {
            Assert.Equal(obj.Count("total"), Statuses.Sum(s => obj.Count(s)));
            Assert.Equal(obj.Count("total"), (await client.ListAllAsync(url)).Count);
            foreach (var status in Statuses)
            {
                var listed = await client.ListAllAsync($"{url}?filter={status}");
                Assert.True(obj.Count(status) == listed.Count, $"{url}: file_counts.{status} = {obj.Count(status)} but the filtered listing has {listed.Count}");
                Assert.All(listed, f => Assert.Equal(status, (string?)f["status"]));
            }
        }

        foreach (var file in await client.ListAllAsync($"{prefix}/vector_stores/{storeId}/files"))
        {
            var fileId = (string)file["id"]!;
            var chunks = await factory.CountChunksAsync(storeId, fileId);
            var fts = await factory.CountFtsRowsAsync(storeId, fileId);
            switch ((string?)file["status"])
            {
                case "completed":
                    Assert.True(chunks > 0, $"completed file {fileId} has no chunks");
                    Assert.Equal(chunks, fts);
                    break;
                case "cancelled" or "failed":
                    Assert.True(chunks == 0 && fts == 0, $"{file["status"]} file {fileId} has {chunks} chunks and {fts} FTS rows");
                    break;
            }
        }
    }
}
