using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Quiver.CrashTests;

/// <summary>The moment a round kills the server.</summary>
internal enum KillMoment
{
    /// <summary>As soon as the batch create returned.</summary>
    AfterBatchCreate,

    /// <summary>As soon as the batch cancel returned.</summary>
    AfterCancel,

    /// <summary>When the batch's completed count has just moved while files are still in progress (publication under way).</summary>
    MidPublish,

    /// <summary>While uploads are in flight.</summary>
    DuringUpload,

    /// <summary>A random delay after a batch create plus single re-attaches of completed files (the chunk swap).</summary>
    RandomDelay,
}

/// <summary>
/// The kill loop on one backend: rounds of uploads and batches, each ended by a SIGKILL at a chosen moment and a
/// restart on the same data; then the invariants. Deterministic in its choices for a seed (timing is not).
/// </summary>
internal sealed class CrashLoop(ServerProcess server, QuiverApi api, Random random, TextWriter log)
{
    private static readonly KillMoment[] Rotation = Enum.GetValues<KillMoment>();

    public Ledger Ledger { get; } = new();

    public Dictionary<KillMoment, int> Kills { get; } = [];

    public int Uploads { get; private set; }

    public int TotalKills => Kills.Values.Sum();

    /// <summary>Runs rounds until at least <paramref name="minKills"/> kills and <paramref name="minDuration"/> have passed; returns the store id.</summary>
    public async Task<string> RunAsync(int minKills, TimeSpan minDuration, int filesPerRound, CancellationToken ct)
    {
        var store = await api.RequireAsync(HttpMethod.Post, "/v1/vector_stores", new JsonObject { ["name"] = "crash-loop" }, ct);
        var storeId = (string)store["id"]!;
        var pending = new List<string>();
        var clock = Stopwatch.StartNew();
        for (var round = 0; TotalKills < minKills || clock.Elapsed < minDuration; round++)
        {
            var moment = Rotation[round % Rotation.Length];
            var count = random.Next(filesPerRound / 2, filesPerRound + 1);
            if (moment == KillMoment.DuringUpload)
            {
                var uploads = UploadManyAsync(count, pending, tolerateErrors: true, ct);
                await Task.Delay(random.Next(20, 400), ct);
                await KillAsync(moment, round);
                await uploads;
            }
            else
            {
                await UploadManyAsync(count, pending, tolerateErrors: false, ct);
                var batchId = await CreateBatchAsync(storeId, pending, ct);
                switch (moment)
                {
                    case KillMoment.AfterCancel:
                        await Task.Delay(random.Next(0, 250), ct);
                        await api.RequireAsync(HttpMethod.Post, $"/v1/vector_stores/{storeId}/file_batches/{batchId}/cancel", ct: ct);
                        break;
                    case KillMoment.MidPublish:
                        await WaitForPublicationAsync(storeId, batchId, ct);
                        break;
                    case KillMoment.RandomDelay:
                        await ReattachAsync(storeId, random.Next(1, 6), ct);
                        await Task.Delay(random.Next(0, 1500), ct);
                        break;
                }

                await KillAsync(moment, round);
            }

            var restart = Stopwatch.StartNew();
            await server.StartAsync(api.Http, ct);
            log.WriteLine($"  {_clock.Elapsed.TotalSeconds,6:F1} s  restarted in {restart.Elapsed.TotalSeconds:F1} s");
        }

        // Whatever is left over is attached too, so that everything uploaded ends up checked.
        if (pending.Count > 0)
        {
            await CreateBatchAsync(storeId, pending, ct);
        }

        return storeId;
    }

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private async Task KillAsync(KillMoment moment, int round)
    {
        await server.KillAsync();
        Kills[moment] = Kills.GetValueOrDefault(moment) + 1;
        log.WriteLine($"  {_clock.Elapsed.TotalSeconds,6:F1} s  round {round}: kill #{TotalKills} {moment}");
    }

    /// <summary>Uploads small text files (4 at a time), each with a unique phrase; successful ones join <paramref name="pending"/>.</summary>
    private async Task UploadManyAsync(int count, List<string> pending, bool tolerateErrors, CancellationToken ct)
    {
        var texts = Enumerable.Range(0, count).Select(_ => Document()).ToList();
        await Parallel.ForEachAsync(texts, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (doc, token) =>
        {
            try
            {
                var (status, body) = await api.UploadAsync($"crash-{Guid.NewGuid():N}.txt", Encoding.UTF8.GetBytes(doc.Text), token);
                if (status != 200)
                {
                    // A request cut by the kill may still answer; only an error status while the server is up is a failure.
                    if (!tolerateErrors)
                    {
                        throw new InvalidOperationException($"upload answered {status}: {body?.ToJsonString()}");
                    }

                    return;
                }

                lock (pending)
                {
                    var id = (string)body!["id"]!;
                    Ledger.Phrases[id] = doc.Phrase;
                    pending.Add(id);
                    Uploads++;
                }
            }
            catch (Exception e) when (tolerateErrors && e is HttpRequestException or TaskCanceledException or IOException)
            {
            }
        });
    }

    private async Task<string> CreateBatchAsync(string storeId, List<string> pending, CancellationToken ct)
    {
        var ids = new JsonArray([.. pending.Select(id => (JsonNode)id)]);
        var batch = await api.RequireAsync(HttpMethod.Post, $"/v1/vector_stores/{storeId}/file_batches",
            new JsonObject { ["file_ids"] = ids, ["attributes"] = new JsonObject { ["source"] = "crash-loop" } }, ct);
        var batchId = (string)batch["id"]!;
        Ledger.Batches.Add(batchId);
        Ledger.Attached.UnionWith(pending);
        pending.Clear();
        return batchId;
    }

    /// <summary>Polls the batch until its completed count moves while files remain in progress (or 30 s pass).</summary>
    private async Task WaitForPublicationAsync(string storeId, string batchId, CancellationToken ct)
    {
        long? first = null;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var counts = (await api.RequireAsync(HttpMethod.Get, $"/v1/vector_stores/{storeId}/file_batches/{batchId}", ct: ct))["file_counts"]!;
            var completed = (long)counts["completed"]!;
            first ??= completed;
            if (completed > first && (long)counts["in_progress"]! > 0)
            {
                return;
            }

            await Task.Delay(5, ct);
        }

        log.WriteLine("  (mid-publish: the batch did not move within 30 s; killing anyway)");
    }

    /// <summary>Re-attaches completed files one by one: their new generation must replace the old chunks, never add to them.</summary>
    private async Task ReattachAsync(string storeId, int count, CancellationToken ct)
    {
        var completed = (await api.ListAllAsync($"/v1/vector_stores/{storeId}/files?filter=completed", ct)).Select(f => (string)f["id"]!).ToList();
        for (var i = 0; i < count && completed.Count > 0; i++)
        {
            var id = completed[random.Next(completed.Count)];
            await api.RequireAsync(HttpMethod.Post, $"/v1/vector_stores/{storeId}/files", new JsonObject { ["file_id"] = id }, ct);
        }
    }

    private (string Text, string Phrase) Document() => Workload.Document(random);
}
