using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quiver.Core.Embeddings;
using Quiver.Core.Hosting;
using Quiver.Core.Ingestion;
using Quiver.Server.Hosting;

using static Quiver.Bench.BenchSupport;

namespace Quiver.Bench;

/// <summary>
/// Ingestion throughput through the real server and pipeline, compared with the raw embedder.
/// <code>
/// ingest [--corpus PATH] [--limit N] [--model local:snowflake-arctic-embed-xs|local:all-minilm-l6-v2] [--workers N]
/// </code>
/// Starts the server in-process on a loopback port and a temporary data directory, uploads each
/// SciFact document as a file (<c>title + "\n" + text</c>), attaches them as file batches of at
/// most 2000 and waits until the store has nothing in progress. Then embeds the very chunk texts
/// the pipeline stored directly with <see cref="EmbeddingModel.EmbedDocumentsAsync"/>, in batches
/// of the pipeline's size, to get the embedder's own ceiling on this machine.
/// </summary>
internal static class IngestBenchmark
{
    private const string Key = "bench-ingest-key";
    private const int MaxBatch = 2000;

    public static async Task<int> RunAsync(string[] args)
    {
        string? corpus = null, model = LocalModels.ArcticXsId;
        int limit = 500, workers = 0;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--corpus" when value is not null: corpus = value; i++; break;
                case "--model" when value is not null: model = value; i++; break;
                case "--limit" when int.TryParse(value, CultureInfo.InvariantCulture, out var l): limit = l; i++; break;
                case "--workers" when int.TryParse(value, CultureInfo.InvariantCulture, out var w): workers = w; i++; break;
                default:
                    Console.Error.WriteLine($"Unknown or incomplete option '{args[i]}'. Usage: ingest [--corpus PATH] [--limit N] [--model ID] [--workers N]");
                    return 2;
            }
        }

        corpus ??= DefaultCorpus();
        if (!File.Exists(corpus))
        {
            Console.Error.WriteLine($"Corpus not found: {corpus}. Pass --corpus PATH (BEIR corpus.jsonl).");
            return 2;
        }

        var docs = ReadCorpus(corpus, limit);
        var dataDir = Path.Combine(Path.GetTempPath(), "quiver-bench-ingest-" + Guid.NewGuid().ToString("N"));
        Console.WriteLine($"ingest: {docs.Count} docs from {corpus}; model {model}; workers {(workers > 0 ? workers : Environment.ProcessorCount)}; {Environment.ProcessorCount} cores; data dir {dataDir}");

        try
        {
            await using var app = BuildHost(dataDir, model, workers);
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);

            // Uploads are not part of the ingestion figure: they are the Files API's job.
            var upload = Stopwatch.StartNew();
            var fileIds = await UploadTextFilesAsync(http, docs);
            upload.Stop();

            var startGc = (Gen0: GC.CollectionCount(0), Gen1: GC.CollectionCount(1), Gen2: GC.CollectionCount(2), Allocated: GC.GetTotalAllocatedBytes());
            var ingest = Stopwatch.StartNew();
            var store = await PostAsync(http, "/v1/vector_stores", $$"""{"name":"ingest-bench","embedding_model":"{{model}}"}""");
            var storeId = (string)store["id"]!;
            foreach (var batch in fileIds.Chunk(MaxBatch))
            {
                await PostAsync(http, $"/v1/vector_stores/{storeId}/file_batches", JsonSerializer.Serialize(new { file_ids = batch }));
            }

            JsonObject final;
            while (true)
            {
                using var response = await http.GetAsync($"/v1/vector_stores/{storeId}");
                final = await ReadAsync(response);
                if ((long)final["file_counts"]!["in_progress"]! == 0)
                {
                    break;
                }

                await Task.Delay(100);
            }

            ingest.Stop();
            var gc = (Gen0: GC.CollectionCount(0) - startGc.Gen0, Gen1: GC.CollectionCount(1) - startGc.Gen1, Gen2: GC.CollectionCount(2) - startGc.Gen2,
                Allocated: GC.GetTotalAllocatedBytes() - startGc.Allocated);
            var counts = final["file_counts"]!;
            var chunks = await ReadChunkTextsAsync(dataDir, storeId);

            // The raw embedder on the same texts, same batch size, while the server is idle.
            var registry = app.Services.GetRequiredService<IEmbeddingModelRegistry>();
            var embedding = registry.Get(model!);
            var batchSize = Math.Max(1, app.Services.GetRequiredService<IOptions<IngestionOptions>>().Value.EmbeddingBatchSize);
            var raw = Stopwatch.StartNew();
            foreach (var batch in chunks.Chunk(batchSize))
            {
                await embedding.EmbedDocumentsAsync(batch, CancellationToken.None);
            }

            raw.Stop();

            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var info = GC.GetGCMemoryInfo(GCKind.Any);
            var docsPerSecond = docs.Count / ingest.Elapsed.TotalSeconds;
            var chunksPerSecond = chunks.Length / ingest.Elapsed.TotalSeconds;
            var rawPerSecond = chunks.Length / raw.Elapsed.TotalSeconds;

            Console.WriteLine();
            Console.WriteLine($"| {"metric",-34} | {"value",20} |");
            Console.WriteLine($"|{new string('-', 36)}|{new string('-', 22)}|");
            Row("docs", docs.Count.ToString("N0", CultureInfo.InvariantCulture));
            Row("file counts (completed/failed)", $"{counts["completed"]}/{counts["failed"]}");
            Row("chunks", chunks.Length.ToString("N0", CultureInfo.InvariantCulture));
            Row("upload time (s)", F(upload.Elapsed.TotalSeconds));
            Row("ingestion time (s)", F(ingest.Elapsed.TotalSeconds));
            Row("pipeline docs/s", F(docsPerSecond));
            Row("pipeline chunks/s", F(chunksPerSecond));
            Row($"raw embedder chunks/s (batch {batchSize})", F(rawPerSecond));
            Row("pipeline / raw", F(chunksPerSecond / rawPerSecond, "0.00"));
            Row("peak working set (MiB)", F(process.PeakWorkingSet64 / 1048576.0, "0"));
            Row("GC heap after run (MiB)", F(info.HeapSizeBytes / 1048576.0, "0"));
            Row("allocated during ingestion (MiB)", F(gc.Allocated / 1048576.0, "0"));
            Row("GCs during ingestion (0/1/2)", $"{gc.Gen0}/{gc.Gen1}/{gc.Gen2}");
            Row("GC pause total (ms)", F(GC.GetTotalPauseDuration().TotalMilliseconds, "0"));

            await app.StopAsync();
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        static void Row(string name, string value) => Console.WriteLine($"| {name,-34} | {value,20} |");
        static string F(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);
    }

    private static WebApplication BuildHost(string dataDir, string? model, int workers)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Quiver:DataDir"] = dataDir,
            ["QUIVER_API_KEY"] = Key,
            ["Quiver:Embeddings:Default"] = model,
            ["Quiver:Ingestion:Workers"] = workers.ToString(CultureInfo.InvariantCulture),
            ["Quiver:MaxUploadBytes"] = "104857600",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddQuiverCore();
        builder.AddQuiverServer();
        var app = builder.Build();
        app.UseQuiverServer();
        return app;
    }

    /// <summary><c>../shared/datasets/scifact/corpus.jsonl</c> relative to the repository root (the folder with Quiver.slnx).</summary>
    private static string DefaultCorpus()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Quiver.slnx")))
            {
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "datasets", "scifact", "corpus.jsonl"));
            }
        }

        return "/work/shared/datasets/scifact/corpus.jsonl";
    }

    private static List<string> ReadCorpus(string path, int limit)
    {
        var docs = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            if (docs.Count >= limit && limit > 0)
            {
                break;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            using var json = JsonDocument.Parse(line);
            var title = json.RootElement.TryGetProperty("title", out var t) ? t.GetString() : null;
            var text = json.RootElement.TryGetProperty("text", out var x) ? x.GetString() : null;
            docs.Add((title ?? "") + "\n" + (text ?? ""));
        }

        return docs;
    }

    private static async Task<string[]> ReadChunkTextsAsync(string dataDir, string storeId)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDir, "quiver.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT text FROM chunks WHERE vector_store_id = @store ORDER BY file_id, chunk_index";
        command.Parameters.AddWithValue("@store", storeId);
        var texts = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            texts.Add(reader.GetString(0));
        }

        return [.. texts];
    }

    private static async Task<JsonObject> PostAsync(HttpClient http, string url, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(url, content);
        return await ReadAsync(response);
    }

}
