using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
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
using Npgsql;
using Quiver.Core.Embeddings;
using Quiver.Core.Hosting;
using Quiver.Core.Ingestion;
using Quiver.Server.Hosting;

using static Quiver.Bench.BenchSupport;

namespace Quiver.Bench;

/// <summary>
/// Cross-process cancel benchmark on PostgreSQL: two Quiver hosts (A and B, each with its own
/// connection pool, workers and LISTEN connection) on one fresh database. Per run, a batch is
/// attached with every embedding call held until cancelled, so both hosts' workers are busy;
/// the batch is cancelled over HTTP through A, and the time until each of B's running jobs sees
/// its token cancelled is measured (the NOTIFY path; B's lease heartbeat is 20 s away).
/// Usage: <c>dotnet run -c Release --project bench/Quiver.Bench -- cancel-notify [--runs 30] [--workers 2] [--pg "Host=..."]</c>
/// (the connection string defaults to <c>QUIVER_TEST_PG</c>; its role must be able to create databases).
/// </summary>
public static class CancelNotifyBenchmark
{
    private const string ApiKey = "bench-key";

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = Option(args, "--runs", 30);
        var workers = Option(args, "--workers", 2);
        var server = Option(args, "--pg") ?? Environment.GetEnvironmentVariable("QUIVER_TEST_PG");
        if (string.IsNullOrWhiteSpace(server))
        {
            Console.Error.WriteLine("cancel-notify needs a PostgreSQL connection string: --pg \"Host=...\" or QUIVER_TEST_PG.");
            return 2;
        }

        var database = "quiver_bench_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(server, $"CREATE DATABASE {database}");
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        var embedderA = new HeldEmbeddingGenerator();
        var embedderB = new HeldEmbeddingGenerator();
        var dataDir = Path.Combine(Path.GetTempPath(), "quiver-bench-notify-" + Guid.NewGuid().ToString("N"));
        WebApplication? a = null, b = null;
        try
        {
            a = await StartHostAsync(connectionString, Path.Combine(dataDir, "a"), workers, embedderA);
            b = await StartHostAsync(connectionString, Path.Combine(dataDir, "b"), workers, embedderB);
            var signalsA = a.Services.GetRequiredService<IngestionSignals>();
            var signalsB = b.Services.GetRequiredService<IngestionSignals>();
            using var http = new HttpClient { BaseAddress = new Uri(Address(a)) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);

            var fileCount = workers * 2;
            var fileIds = new string[fileCount];
            for (var i = 0; i < fileCount; i++)
            {
                using var form = new MultipartFormDataContent();
                form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes($"Benchmark document {i} about topic {i}.")), "file", $"doc{i}.txt");
                form.Add(new StringContent("assistants"), "purpose");
                using var response = await http.PostAsync("/v1/files", form);
                fileIds[i] = (string)(await ReadAsync(response))["id"]!;
            }

            var batchBody = "{\"file_ids\":[" + string.Join(",", fileIds.Select(id => $"\"{id}\"")) + "]}";
            Console.WriteLine($"cancel-notify benchmark: {runs} runs, two hosts x {workers} workers on one PostgreSQL database, lease 60 s, {Environment.ProcessorCount} cores");

            var fromResponse = new List<double>();
            var fromRequest = new List<double>();
            for (var run = -1; run < runs; run++)
            {
                using var storeResponse = await http.PostAsync("/v1/vector_stores", Json("{}"));
                var storeId = (string)(await ReadAsync(storeResponse))["id"]!;
                var markB = embedderB.Mark();
                using var batchResponse = await http.PostAsync($"/v1/vector_stores/{storeId}/file_batches", Json(batchBody));
                var batchId = (string)(await ReadAsync(batchResponse))["id"]!;

                // Both hosts' workers are mid-embedding: A can hold only `workers` jobs, so B holds the rest.
                await WaitAsync(() => embedderA.InFlight + embedderB.InFlight == fileCount,
                    () => $"every job in flight (run {run}: A {embedderA.InFlight}, B {embedderB.InFlight}, running A {signalsA.RunningCount}, B {signalsB.RunningCount})");
                var inB = embedderB.InFlight;
                var start = Stopwatch.GetTimestamp();
                using var cancelResponse = await http.PostAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}/cancel", null);
                var end = Stopwatch.GetTimestamp();
                var cancelled = await ReadAsync(cancelResponse);
                Check((string?)cancelled["status"] == "cancelled", "the batch is cancelled");

                await WaitAsync(() => embedderB.CancelledSince(markB).Count >= inB, "B's jobs cancelled", seconds: 15);
                await WaitAsync(() => signalsA.RunningCount == 0 && signalsB.RunningCount == 0, "both hosts idle");
                var stops = embedderB.CancelledSince(markB);
                using var deleted = await http.DeleteAsync($"/v1/vector_stores/{storeId}");
                await ReadAsync(deleted);
                if (run < 0)
                {
                    continue; // warm-up
                }

                fromResponse.AddRange(stops.Select(t => Ms(end, t)));
                fromRequest.AddRange(stops.Select(t => Ms(start, t)));
            }

            Console.WriteLine();
            Console.WriteLine($"B's jobs measured: {fromResponse.Count} over {runs} runs (negative: B stopped before A's response reached the client)");
            Console.WriteLine("| B's job token cancelled, measured from | p50 (ms) | p99 (ms) | max (ms) |");
            Console.WriteLine("|---|---|---|---|");
            Console.WriteLine($"| cancel request sent to A | {Percentile(fromRequest, 0.5):F1} | {Percentile(fromRequest, 0.99):F1} | {fromRequest.Max():F1} |");
            Console.WriteLine($"| cancel response from A | {Percentile(fromResponse, 0.5):F1} | {Percentile(fromResponse, 0.99):F1} | {fromResponse.Max():F1} |");
            return 0;
        }
        finally
        {
            foreach (var host in new[] { b, a })
            {
                if (host is not null)
                {
                    await host.StopAsync();
                    await host.DisposeAsync();
                }
            }

            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<WebApplication> StartHostAsync(string connectionString, string dataDir, int workers, HeldEmbeddingGenerator embedder)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Quiver:DataDir"] = dataDir,
            ["QUIVER_API_KEY"] = ApiKey,
            ["Quiver:Storage:Provider"] = "postgres",
            ["ConnectionStrings:Quiver"] = connectionString,
            ["Quiver:Embeddings:Default"] = HeldEmbeddingGenerator.ModelId,
            ["Quiver:Ingestion:Workers"] = workers.ToString(CultureInfo.InvariantCulture),
            ["Quiver:Ingestion:LeaseSeconds"] = "60",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddQuiverCore();
        builder.AddQuiverServer();
        builder.Services.AddSingleton(new EmbeddingModel(
            new EmbeddingModelInfo(HeldEmbeddingGenerator.ModelId, "bench", "held-8", HeldEmbeddingGenerator.Dimensions, 8192, 64, 200, 50), embedder));
        var app = builder.Build();
        app.UseQuiverServer();
        await app.StartAsync();
        return app;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Check(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    private static Task WaitAsync(Func<bool> condition, string what, int seconds = 60) => WaitAsync(condition, () => what, seconds);

    private static async Task WaitAsync(Func<bool> condition, Func<string> what, int seconds = 60)
    {
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * seconds;
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() >= deadline)
            {
                Check(false, what() + $" within {seconds} s");
            }

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





    /// <summary>Holds every call until its token is cancelled, timestamping the cancellation.</summary>
    private sealed class HeldEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public const string ModelId = "bench:held-8";
        public const int Dimensions = 8;
        private readonly ConcurrentQueue<long> _cancelled = new();
        private int _inFlight;

        public int InFlight => Volatile.Read(ref _inFlight);

        public int Mark() => _cancelled.Count;

        /// <summary>When calls were cancelled (<see cref="Stopwatch"/> timestamps), after <paramref name="mark"/>.</summary>
        public IReadOnlyList<long> CancelledSince(int mark) => [.. _cancelled.Skip(mark)];

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _inFlight);
            try
            {
                // Timestamped in the token's own callback: the moment the worker's token is cancelled.
                await using (cancellationToken.Register(() => _cancelled.Enqueue(Stopwatch.GetTimestamp())))
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }

                throw new InvalidOperationException("unreachable: the delay only ends by cancellation");
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
