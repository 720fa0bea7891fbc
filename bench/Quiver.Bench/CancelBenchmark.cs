using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quiver.Core.Embeddings;
using Quiver.Core.Hosting;
using Quiver.Core.Ingestion;
using Quiver.Core.Storage.Sqlite;
using Quiver.Core.VectorStores;
using Quiver.Server.Hosting;

using static Quiver.Bench.BenchSupport;

namespace Quiver.Bench;

/// <summary>
/// Cancel benchmark: an in-process server on loopback with a slow deterministic embedder; per run,
/// one batch of many small files is cancelled over real HTTP while the workers are mid-embedding.
/// Measures the cancel request latency, the time from the cancel response to the last chunk
/// publication attempt, and to the workers going idle.
/// Usage: <c>dotnet run -c Release --project bench/Quiver.Bench -- cancel [--runs 20] [--files 2000] [--embed-ms 50] [--workers 4]</c>
/// </summary>
public static class CancelBenchmark
{
    private const string ApiKey = "bench-key";

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = Option(args, "--runs", 20);
        var fileCount = Option(args, "--files", 2000);
        var embedMs = Option(args, "--embed-ms", 50);
        var workers = Option(args, "--workers", 4);
        var dataDir = Path.Combine(Path.GetTempPath(), "quiver-bench-cancel-" + Guid.NewGuid().ToString("N"));
        var embedder = new SlowEmbeddingGenerator(TimeSpan.FromMilliseconds(embedMs));
        RecordingJobStore? recorder = null;

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Quiver:DataDir"] = dataDir,
            ["QUIVER_API_KEY"] = ApiKey,
            ["Quiver:Embeddings:Default"] = SlowEmbeddingGenerator.ModelId,
            ["Quiver:Ingestion:Workers"] = workers.ToString(CultureInfo.InvariantCulture),
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddQuiverCore();
        builder.AddQuiverServer();
        builder.Services.AddSingleton(new EmbeddingModel(
            new EmbeddingModelInfo(SlowEmbeddingGenerator.ModelId, "bench", "slow-64", SlowEmbeddingGenerator.Dimensions, 8192, 64, 200, 50), embedder));
        // Decorate the job store to timestamp every publication attempt.
        builder.Services.AddSingleton<SqliteIngestionJobStore>();
        builder.Services.AddSingleton<IIngestionJobStore>(sp => recorder = new RecordingJobStore(sp.GetRequiredService<SqliteIngestionJobStore>()));

        await using var app = builder.Build();
        app.UseQuiverServer();
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            var signals = app.Services.GetRequiredService<IngestionSignals>();
            _ = app.Services.GetRequiredService<IIngestionJobStore>();

            Console.WriteLine($"cancel benchmark: {runs} runs, batch of {fileCount} files, embedder {embedMs} ms/call, {workers} workers, {Environment.ProcessorCount} cores");
            var upload = Stopwatch.StartNew();
            var fileIds = new string[fileCount];
            await Parallel.ForAsync(0, fileCount, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                using var form = new MultipartFormDataContent();
                var file = new ByteArrayContent(Encoding.UTF8.GetBytes($"Benchmark document {i}. It talks about topic {i % 37} and nothing else."));
                form.Add(file, "file", $"doc{i}.txt");
                form.Add(new StringContent("assistants"), "purpose");
                using var response = await http.PostAsync("/v1/files", form, ct);
                fileIds[i] = (string)(await ReadAsync(response))["id"]!;
            });
            Console.WriteLine($"uploaded {fileCount} files in {upload.Elapsed.TotalSeconds:F1} s");
            var batchBody = "{\"file_ids\":[" + string.Join(",", fileIds.Select(id => $"\"{id}\"")) + "]}";

            var latencies = new List<double>();
            var toLastPublish = new List<double>();
            var toIdle = new List<double>();
            long publishedAfterCancel = 0, attemptsAfterCancel = 0, attemptsDuringCancel = 0, committedDuringCancel = 0, cancelledTotal = 0;
            for (var run = -1; run < runs; run++)
            {
                using var storeResponse = await http.PostAsync("/v1/vector_stores", Json("{}"));
                var storeId = (string)(await ReadAsync(storeResponse))["id"]!;
                using var batchResponse = await http.PostAsync($"/v1/vector_stores/{storeId}/file_batches", Json(batchBody));
                var batchId = (string)(await ReadAsync(batchResponse))["id"]!;

                // Mid-embedding: every worker holds a job and at least one embedding call is in flight.
                await WaitAsync(() => signals.RunningCount >= workers && embedder.InFlight > 0, "workers mid-embedding");
                var mark = recorder!.Mark();
                var start = Stopwatch.GetTimestamp();
                using var cancelResponse = await http.PostAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}/cancel", null);
                var end = Stopwatch.GetTimestamp();
                var cancelled = await ReadAsync(cancelResponse);
                Check((string?)cancelled["status"] == "cancelled" && (long)cancelled["file_counts"]!["in_progress"]! == 0, "cancel answered in_progress 0");

                var spin = new SpinWait();
                var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
                while (signals.RunningCount > 0)
                {
                    Check(Stopwatch.GetTimestamp() < deadline, "workers idle within 30 s");
                    spin.SpinOnce(sleep1Threshold: -1);
                }

                var idle = Stopwatch.GetTimestamp();
                var (racing, racingCommitted, _) = recorder.Since(mark, start);
                var (attempts, published, last) = recorder.Since(mark, end);
                if (run < 0)
                {
                    continue; // warm-up
                }

                latencies.Add(Ms(start, end));
                toIdle.Add(Math.Max(0, Ms(end, idle)));
                toLastPublish.Add(last is { } t ? Ms(end, t) : double.NaN);
                attemptsDuringCancel += racing - attempts;
                committedDuringCancel += racingCommitted - published;
                attemptsAfterCancel += attempts;
                publishedAfterCancel += published;
                cancelledTotal += (long)cancelled["file_counts"]!["cancelled"]!;

                using var deleted = await http.DeleteAsync($"/v1/vector_stores/{storeId}");
                await ReadAsync(deleted);
            }

            var lastPublish = toLastPublish.Where(v => !double.IsNaN(v)).ToList();
            Console.WriteLine();
            Console.WriteLine("| metric | p50 | p99 | max |");
            Console.WriteLine("|---|---|---|---|");
            Console.WriteLine($"| cancel request latency (ms) | {Percentile(latencies, 0.5):F1} | {Percentile(latencies, 0.99):F1} | {latencies.Max():F1} |");
            Console.WriteLine($"| cancel response → workers idle (ms) | {Percentile(toIdle, 0.5):F1} | {Percentile(toIdle, 0.99):F1} | {toIdle.Max():F1} |");
            Console.WriteLine(lastPublish.Count == 0
                ? "| cancel response → last publish attempt (ms) | none after the response in any run | | |"
                : $"| cancel response → last publish attempt (ms) | {Percentile(lastPublish, 0.5):F1} | {Percentile(lastPublish, 0.99):F1} | {lastPublish.Max():F1} |");
            Console.WriteLine();
            Console.WriteLine($"runs: {runs}; files cancelled per run: {cancelledTotal / (double)runs:F0} of {fileCount}");
            Console.WriteLine($"publish attempts while the cancel request was in flight: {attemptsDuringCancel} " +
                $"({committedDuringCancel} committed before the cancel transaction, counted completed; the rest fenced)");
            Console.WriteLine($"publish attempts after the cancel response: {attemptsAfterCancel} in {lastPublish.Count} runs; committed: {publishedAfterCancel}");
            Check(publishedAfterCancel == 0, "no publication commits after the cancel response");
            return 0;
        }
        finally
        {
            await app.StopAsync();
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Check(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60;
        while (!condition())
        {
            Check(Stopwatch.GetTimestamp() < deadline, what);
            await Task.Delay(1);
        }
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Benchmark check failed: " + what);
        }
    }




    /// <summary>Sleeps per call (honouring cancellation) and returns word-hash vectors, like the test embedder.</summary>
    private sealed class SlowEmbeddingGenerator(TimeSpan delay) : IEmbeddingGenerator<string, Embedding<float>>
    {
        public const string ModelId = "bench:slow-64";
        public const int Dimensions = 64;
        private int _inFlight;

        public int InFlight => Volatile.Read(ref _inFlight);

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _inFlight);
            try
            {
                await Task.Delay(delay, cancellationToken);
                return [.. values.Select(v => new Embedding<float>(Embed(v)))];
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        private static float[] Embed(string text)
        {
            var vector = new float[Dimensions];
            foreach (var word in text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var hash = MD5.HashData(Encoding.UTF8.GetBytes(word));
                vector[hash[0] % Dimensions] += 1f;
            }

            vector[0] += 0.01f;
            return vector;
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>Delegates to the real job store and timestamps every publication attempt and commit.</summary>
    private sealed class RecordingJobStore(IIngestionJobStore inner) : IIngestionJobStore
    {
        private readonly Lock _lock = new();
        private readonly List<(long At, bool Committed)> _publishes = [];

        public int Mark()
        {
            lock (_lock)
            {
                return _publishes.Count;
            }
        }

        /// <summary>Attempts started at or after <paramref name="since"/>, how many committed, and when the last one started.</summary>
        public (int Attempts, int Committed, long? Last) Since(int mark, long since)
        {
            lock (_lock)
            {
                var after = _publishes.Skip(mark).Where(p => p.At >= since).ToList();
                return (after.Count, after.Count(p => p.Committed), after.Count > 0 ? after.Max(p => p.At) : null);
            }
        }

        public async Task<bool> PublishAsync(ClaimedJob job, IReadOnlyList<ChunkToPublish> chunks, string parsedText, long usageBytes, CancellationToken ct)
        {
            var at = Stopwatch.GetTimestamp();
            var committed = await inner.PublishAsync(job, chunks, parsedText, usageBytes, ct);
            lock (_lock)
            {
                _publishes.Add((at, committed));
            }

            return committed;
        }

        public Task<ClaimedJob?> ClaimNextAsync(string owner, long nowMs, long leaseMs, long runDeadlineMs, CancellationToken ct) =>
            inner.ClaimNextAsync(owner, nowMs, leaseMs, runDeadlineMs, ct);

        public Task<bool> ExtendLeaseAsync(ClaimedJob job, long untilMs, CancellationToken ct) => inner.ExtendLeaseAsync(job, untilMs, ct);

        public Task<bool> FailAsync(ClaimedJob job, string code, string message, CancellationToken ct) => inner.FailAsync(job, code, message, ct);

        public Task RetryLaterAsync(ClaimedJob job, long notBeforeMs, CancellationToken ct) => inner.RetryLaterAsync(job, notBeforeMs, ct);

        public Task<bool> ReleaseClaimAsync(ClaimedJob job, CancellationToken ct) => inner.ReleaseClaimAsync(job, ct);

        public Task<int> ReleaseAllClaimsAsync(CancellationToken ct) => inner.ReleaseAllClaimsAsync(ct);

        public Task<IReadOnlyList<(string StoreId, string FileId)>> FailOverdueAsync(long nowMs, string message, CancellationToken ct) =>
            inner.FailOverdueAsync(nowMs, message, ct);

        public Task<int> MarkExpiredStoresAsync(long now, CancellationToken ct) => inner.MarkExpiredStoresAsync(now, ct);

        public Task<long?> NextWakeDelayAsync(long nowMs, CancellationToken ct) => inner.NextWakeDelayAsync(nowMs, ct);

        public Task<IReadOnlyDictionary<string, long>> CountByStateAsync(CancellationToken ct) => inner.CountByStateAsync(ct);
    }
}
