using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Quiver.CrashTests;

/// <summary>Uploads and batches for the scenarios that do not kill the server (PostgreSQL restart, disk full).</summary>
internal static class Workload
{
    /// <summary>Uploads <paramref name="count"/> small files with unique phrases (4 at a time) and attaches them as one batch; returns the batch id.</summary>
    public static async Task<string> UploadAndBatchAsync(QuiverApi api, string storeId, Ledger ledger, Random random, int count, CancellationToken ct)
    {
        var docs = Enumerable.Range(0, count).Select(_ => Document(random)).ToList();
        var ids = new string[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (i, token) =>
        {
            var (status, body) = await api.UploadAsync($"doc-{i}.txt", Encoding.UTF8.GetBytes(docs[i].Text), token);
            ids[i] = status == 200 ? (string)body!["id"]! : throw new InvalidOperationException($"upload answered {status}: {body?.ToJsonString()}");
        });
        for (var i = 0; i < count; i++)
        {
            ledger.Phrases[ids[i]] = docs[i].Phrase;
        }

        var batch = await api.RequireAsync(HttpMethod.Post, $"/v1/vector_stores/{storeId}/file_batches",
            new JsonObject { ["file_ids"] = new JsonArray([.. ids.Select(id => (JsonNode)id)]) }, ct);
        var batchId = (string)batch["id"]!;
        ledger.Batches.Add(batchId);
        ledger.Attached.UnionWith(ids);
        return batchId;
    }

    /// <summary>Waits until the batch has completed some files and still has some in progress.</summary>
    public static Task WaitForProgressAsync(QuiverApi api, string storeId, string batchId, CancellationToken ct) =>
        UntilAsync(async () =>
        {
            var counts = (await api.RequireAsync(HttpMethod.Get, $"/v1/vector_stores/{storeId}/file_batches/{batchId}", ct: ct))["file_counts"]!;
            return (long)counts["completed"]! > 0 && (long)counts["in_progress"]! > 0;
        }, TimeSpan.FromSeconds(60), ct);

    /// <summary>Waits until the batch is no longer in progress.</summary>
    public static Task WaitForBatchAsync(QuiverApi api, string storeId, string batchId, CancellationToken ct) =>
        UntilAsync(async () => (string)(await api.RequireAsync(HttpMethod.Get, $"/v1/vector_stores/{storeId}/file_batches/{batchId}", ct: ct))["status"]! != "in_progress",
            TimeSpan.FromSeconds(120), ct);

    /// <summary>Polls <paramref name="condition"/> (exceptions count as false) every 50 ms until true or <paramref name="limit"/> passes (then throws).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan limit, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < limit)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                last = e;
            }

            await Task.Delay(50, ct);
        }

        throw new TimeoutException($"condition not reached within {limit.TotalSeconds:F0} s" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    /// <summary>A few sentences around a unique phrase whose last word is a random nonsense token.</summary>
    public static (string Text, string Phrase) Document(Random random)
    {
        var token = new string([.. Enumerable.Range(0, 12).Select(_ => (char)('a' + random.Next(26)))]);
        var phrase = $"crash marker {token}";
        return ($"This note belongs to the crash loop. It mentions lighthouses, invoices and harbors. {phrase}. It ends here.", phrase);
    }
}
