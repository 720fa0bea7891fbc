using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quiver.Core.Files;
using Quiver.Core.Hosting;
using Quiver.Core.Search;
using Quiver.Core.Tenancy;
using Quiver.Core.VectorStores;
using Quiver.Server.Auth;
using Quiver.Server.Hosting;

using static Quiver.Bench.BenchSupport;

namespace Quiver.Bench;

/// <summary>
/// The SciFact retrieval benchmark (BEIR test split) through the real host, ingestion pipeline and
/// search code (the synthetic vector-index benchmark is <see cref="VectorIndexBenchmark"/>).
/// <code>
/// retrieval [--data DIR] [--queries FILE --qrels FILE] [--model ID] [--pg CONNSTR] [--keep DIR | --reuse DIR] [--warmup N] [--chunk-tokens N --overlap-tokens M] [--dump FILE]
/// </code>
/// </summary>
internal static class RetrievalBenchmark
{
    private const string StoreIdFile = "scifact-bench-store.txt";
    private const int ResultsPerQuery = 100;
    private const int ApiDefaultResults = 10;
    private static readonly Principal Principal = new(ApiKeyAuthenticationMiddleware.DefaultProject, "");

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        var data = options.Get("data", "/work/shared/datasets/scifact");
        var model = options.GetOrNull("model");

        // --pg CONNSTR: the PostgreSQL backend (file bytes in the database) instead of SQLite; the data
        // dir still holds the store id for --reuse. The database must exist and be empty or Quiver's.
        var pg = options.GetOrNull("pg");
        var reuse = options.GetOrNull("reuse");
        var keep = options.GetOrNull("keep");
        var warmup = int.Parse(options.Get("warmup", "20"), CultureInfo.InvariantCulture);
        var dataDir = reuse ?? keep ?? Path.Combine(Path.GetTempPath(), "quiver-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);

        var corpus = ReadJsonLines(Path.Combine(data, "corpus.jsonl"))
            .Select(e => (Id: e.GetProperty("_id").GetString()!, Title: e.GetProperty("title").GetString()!, Text: e.GetProperty("text").GetString()!))
            .ToList();
        // --queries/--qrels: another query set over the same corpus (e.g. the train split, bench/data/scifact-train).
        var queriesPath = options.Get("queries", Path.Combine(data, "queries-test.jsonl"));
        var queries = ReadJsonLines(queriesPath)
            .Select(e => (Id: e.GetProperty("_id").GetString()!, Text: e.GetProperty("text").GetString()!))
            .ToList();
        var qrels = ReadQrels(options.Get("qrels", Path.Combine(data, "qrels-test.tsv")));
        queries = [.. queries.Where(q => qrels.ContainsKey(q.Id))];
        Console.WriteLine($"SciFact: {corpus.Count} docs, {queries.Count} queries with qrels ({Path.GetFileName(queriesPath)}); data dir {dataDir}; {Environment.ProcessorCount} cores");

        await using var app = BuildHost(dataDir, model, pg);
        await app.StartAsync();
        try
        {
            var services = app.Services;
            var vectorStores = services.GetRequiredService<VectorStoreService>();
            VectorStoreRecord store;
            if (reuse is not null)
            {
                var storeId = (await File.ReadAllTextAsync(Path.Combine(dataDir, StoreIdFile))).Trim();
                store = await vectorStores.GetStoreAsync(Principal, storeId, CancellationToken.None);
                Console.WriteLine($"Reusing store {store.Id} ({store.EmbeddingModel}), {store.FileCounts.Completed} files");
            }
            else
            {
                var chunking = options.GetOrNull("chunk-tokens") is { } size
                    ? new ChunkingSpec.Request(int.Parse(size, CultureInfo.InvariantCulture), int.Parse(options.Get("overlap-tokens", "0"), CultureInfo.InvariantCulture))
                    : ChunkingSpec.Request.Auto;
                store = await IngestAsync(services, corpus, model, chunking, dataDir);
            }

            var chunkCount = await CountChunksAsync(dataDir, pg, store.Id);
            Console.WriteLine($"Chunks: {chunkCount}");

            var search = services.GetRequiredService<VectorStoreSearchService>();
            var rankings = new (string Name, Ranker Ranker)[] { ("dense", Ranker.DenseOnly), ("bm25", Ranker.LexicalOnly), ("hybrid", Ranker.Hybrid) };

            // Warm-up: loads the store's vectors into memory, JITs the paths, primes SQLite's page cache.
            foreach (var (_, ranker) in rankings)
            {
                foreach (var q in queries.Take(warmup))
                {
                    await SearchAsync(search, store, q.Text, ranker);
                }
            }

            var rows = new List<(string Name, Metrics Metrics, double P50, double P95)>();
            var dump = new Dictionary<string, Dictionary<string, List<string>>>(StringComparer.Ordinal);
            using var legs = new SearchLegTimes();
            var legLines = new List<string>();
            foreach (var (name, ranker) in rankings)
            {
                legs.Clear();
                var metrics = new List<Metrics>(queries.Count);
                var latencies = new List<double>(queries.Count);
                var ranked = dump[name] = new Dictionary<string, List<string>>(StringComparer.Ordinal);
                foreach (var q in queries)
                {
                    var started = Stopwatch.GetTimestamp();
                    var result = await SearchAsync(search, store, q.Text, ranker);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    var docs = ranked[q.Id] = RankDocs(result);
                    metrics.Add(Metrics.Score(docs, qrels[q.Id]));
                }

                rows.Add((name, Metrics.Mean(metrics), Percentile(latencies, 0.50), Percentile(latencies, 0.95)));
                legLines.Add($"{name}: {legs.Summary()}");
            }

            // The same queries as an API client sends them by default (max_num_results 10): latency only.
            legs.Clear();
            var defaultLatencies = new List<double>(queries.Count);
            foreach (var q in queries)
            {
                var started = Stopwatch.GetTimestamp();
                await SearchAsync(search, store, q.Text, Ranker.Hybrid, results: ApiDefaultResults);
                defaultLatencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            // --dump FILE: every ranking's doc ids per query, for offline comparisons (e.g. fusing runs of two models).
            if (options.GetOrNull("dump") is { } dumpPath)
            {
                await File.WriteAllTextAsync(dumpPath, JsonSerializer.Serialize(dump));
            }

            Console.WriteLine();
            Console.WriteLine($"| ranking | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | p50 ms | p95 ms |");
            Console.WriteLine($"|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (name, m, p50, p95) in rows)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {m.Ndcg10:F4} | {m.Recall10:F4} | {m.Recall100:F4} | {m.Mrr10:F4} | {p50:F1} | {p95:F1} |"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| hybrid, {ApiDefaultResults} results (latency only) | | | | | {Percentile(defaultLatencies, 0.50):F1} | {Percentile(defaultLatencies, 0.95):F1} |"));
            legLines.Add($"hybrid, {ApiDefaultResults} results: {legs.Summary()}");
            Console.WriteLine();
            Console.WriteLine($"Model {store.EmbeddingModel}; {queries.Count} queries; {ResultsPerQuery} chunks per query, doc scored by its best chunk.");
            Console.WriteLine("Search legs, p50 ms (quiver.search.duration; embed and dense run beside lexical):");
            foreach (var line in legLines)
            {
                Console.WriteLine("  " + line);
            }
            if (options.GetOrNull("variants") is "true")
            {
                await FusionVariantsAsync(search, store, queries, qrels);
            }
        }
        finally
        {
            await app.StopAsync();
        }

        if (reuse is null && keep is null)
        {
            TryDelete(dataDir);
        }

        return 0;
    }

    /// <summary>A host composed like Program.cs (core + server), on a loopback port, with its own data dir.</summary>
    private static WebApplication BuildHost(string dataDir, string? model, string? pg)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", Args = [] });
        builder.Configuration["Quiver:DataDir"] = dataDir;
        if (model is not null)
        {
            builder.Configuration["Quiver:Embeddings:Default"] = model;
        }

        if (pg is not null)
        {
            builder.Configuration["Quiver:Storage:Provider"] = "postgres";
            builder.Configuration["Quiver:Storage:Blobs"] = "postgres";
            builder.Configuration["ConnectionStrings:Quiver"] = pg;
        }

        builder.Configuration["QUIVER_API_KEY"] = "bench-" + Guid.NewGuid().ToString("N"); // no first-run key printout
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddQuiverCore();
        builder.AddQuiverServer();
        var app = builder.Build();
        app.UseQuiverServer();
        return app;
    }

    /// <summary>Uploads every doc as <c>&lt;_id&gt;.txt</c>, creates the store, attaches in batches of ≤ 2,000 and waits.</summary>
    private static async Task<VectorStoreRecord> IngestAsync(
        IServiceProvider services, List<(string Id, string Title, string Text)> corpus, string? model, ChunkingSpec.Request chunking, string dataDir)
    {
        var blobs = services.GetRequiredService<IBlobStore>();
        var files = services.GetRequiredService<FileService>();
        var vectorStores = services.GetRequiredService<VectorStoreService>();
        var ct = CancellationToken.None;

        var started = Stopwatch.GetTimestamp();
        var fileIds = new List<string>(corpus.Count);
        foreach (var doc in corpus)
        {
            var bytes = Encoding.UTF8.GetBytes(doc.Title + "\n" + doc.Text);
            var staged = await blobs.StageAsync(new MemoryStream(bytes), long.MaxValue, ct);
            var file = await files.CreateAsync(Principal, doc.Id + ".txt", "assistants", staged, ct);
            fileIds.Add(file.Id);
        }

        var uploaded = Stopwatch.GetElapsedTime(started);
        var store = await vectorStores.CreateStoreAsync(Principal, "scifact", null, AttributeMap.Empty, null, model, [], ct);
        await File.WriteAllTextAsync(Path.Combine(dataDir, StoreIdFile), store.Id, ct);

        var batches = new List<string>();
        foreach (var part in fileIds.Chunk(2_000))
        {
            var batch = await vectorStores.CreateBatchAsync(Principal, store.Id,
                [.. part.Select(id => new AttachRequest(id, AttributeMap.Empty, chunking))], null, ct);
            batches.Add(batch.Id);
        }

        var lastReport = Stopwatch.GetTimestamp();
        while (true)
        {
            var states = new List<FileBatchRecord>();
            foreach (var id in batches)
            {
                states.Add(await vectorStores.GetBatchAsync(Principal, store.Id, id, ct));
            }

            if (states.All(b => b.Status != "in_progress"))
            {
                var failed = states.Sum(b => b.FileCounts.Failed);
                if (failed > 0)
                {
                    Console.Error.WriteLine($"Warning: {failed} files failed ingestion.");
                }

                break;
            }

            if (Stopwatch.GetElapsedTime(lastReport).TotalSeconds >= 30)
            {
                var done = states.Sum(b => b.FileCounts.Completed + b.FileCounts.Failed);
                Console.WriteLine($"  … {done}/{fileIds.Count} files after {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s");
                lastReport = Stopwatch.GetTimestamp();
            }

            await Task.Delay(500, ct);
        }

        var total = Stopwatch.GetElapsedTime(started);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Index build: {total.TotalSeconds:F1} s wall ({uploaded.TotalSeconds:F1} s upload, {(total - uploaded).TotalSeconds:F1} s extract+chunk+embed+publish) for {fileIds.Count} files"));
        return await vectorStores.GetStoreAsync(Principal, store.Id, ct);
    }

    /// <summary>
    /// Exploratory: fusion variants computed here from the real dense and BM25 candidate lists (depth
    /// <see cref="VectorStoreSearchService.MinCandidates"/>·4, as the service uses for 100 results), so several
    /// fusions can be compared in one run without rebuilding the service. Not the production path.
    /// </summary>
    private static async Task FusionVariantsAsync(VectorStoreSearchService search, VectorStoreRecord store,
        List<(string Id, string Text)> queries, Dictionary<string, Dictionary<string, int>> qrels)
    {
        const int depth = 400;
        var variants = new (string Name, Func<SearchHit[], SearchHit[], SearchHit[]> Fuse)[]
        {
            ("rrf k=60 (1:1)", (d, l) => ScoreFusion.ReciprocalRank([new RankedList(d), new RankedList(l)], depth)),
            ("rrf k=20 (1:1)", (d, l) => ScoreFusion.ReciprocalRank([new RankedList(d), new RankedList(l)], depth, 20)),
            ("rrf k=100 (1:1)", (d, l) => ScoreFusion.ReciprocalRank([new RankedList(d), new RankedList(l)], depth, 100)),
            ("weighted cos + bm25/max (1:1)", (d, l) => ScoreFusion.Weighted(d, l, HybridWeights.Default, depth)),
            ("convex min-max (1:1)", (d, l) => MinMaxConvex(d, l, 0.5)),
        };
        var names = new Dictionary<long, string>();
        var perVariant = variants.Select(_ => new List<Metrics>()).ToArray();
        foreach (var q in queries)
        {
            var dense = await SearchListAsync(search, store, q.Text, Ranker.DenseOnly, depth, names);
            var lexical = await SearchListAsync(search, store, q.Text, Ranker.LexicalOnly, depth, names);
            for (var v = 0; v < variants.Length; v++)
            {
                var fused = variants[v].Fuse(dense, lexical);
                var docs = fused.Select(h => names[h.Key]).Distinct(StringComparer.Ordinal).Take(100).ToList();
                perVariant[v].Add(Metrics.Score(docs, qrels[q.Id]));
            }
        }

        Console.WriteLine();
        Console.WriteLine("Fusion variants (exploratory, same candidate lists):");
        Console.WriteLine("| fusion | nDCG@10 | Recall@10 | Recall@100 | MRR@10 |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        for (var v = 0; v < variants.Length; v++)
        {
            var m = Metrics.Mean(perVariant[v]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {variants[v].Name} | {m.Ndcg10:F4} | {m.Recall10:F4} | {m.Recall100:F4} | {m.Mrr10:F4} |"));
        }
    }

    private static async Task<SearchHit[]> SearchListAsync(VectorStoreSearchService search, VectorStoreRecord store, string query, Ranker ranker, int depth, Dictionary<long, string> names)
    {
        var result = await search.SearchStoreAsync(store, [query], new SearchRequest([query], depth, null, ranker, 0f, null, false), CancellationToken.None);
        foreach (var item in result.Items)
        {
            names[item.ChunkKey] = item.Filename.EndsWith(".txt", StringComparison.Ordinal) ? item.Filename[..^4] : item.Filename;
        }

        return [.. result.Items.Select(i => new SearchHit(i.ChunkKey, i.Score))];
    }

    /// <summary>Convex combination of min-max normalised scores (Bruch et al. 2023); a list without the chunk adds 0.</summary>
    private static SearchHit[] MinMaxConvex(SearchHit[] dense, SearchHit[] lexical, double alpha)
    {
        var sums = new Dictionary<long, double>();
        void Add(SearchHit[] hits, double weight)
        {
            if (hits.Length == 0)
            {
                return;
            }

            var max = hits.Max(h => h.Score);
            var min = hits.Min(h => h.Score);
            foreach (var h in hits)
            {
                var norm = max > min ? (h.Score - min) / (max - min) : 1.0;
                sums[h.Key] = sums.GetValueOrDefault(h.Key) + (weight * norm);
            }
        }

        Add(dense, alpha);
        Add(lexical, 1 - alpha);
        return [.. sums.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Select(p => new SearchHit(p.Key, (float)p.Value))];
    }

    private static Task<SearchResult> SearchAsync(VectorStoreSearchService search, VectorStoreRecord store, string query, Ranker ranker, int results = ResultsPerQuery) =>
        search.SearchStoreAsync(store, [query], new SearchRequest([query], results, null, ranker, 0f, null, false), CancellationToken.None);

    /// <summary>Docs in order of their best chunk (a doc's id is its filename without <c>.txt</c>).</summary>
    private static List<string> RankDocs(SearchResult result)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var docs = new List<string>();
        foreach (var item in result.Items)
        {
            var id = item.Filename.EndsWith(".txt", StringComparison.Ordinal) ? item.Filename[..^4] : item.Filename;
            if (seen.Add(id))
            {
                docs.Add(id);
            }
        }

        return docs;
    }

    private static async Task<long> CountChunksAsync(string dataDir, string? pg, string storeId)
    {
        if (pg is not null)
        {
            await using var pgConnection = new Npgsql.NpgsqlConnection(pg);
            await pgConnection.OpenAsync();
            await using var pgCommand = new Npgsql.NpgsqlCommand("SELECT COUNT(*) FROM chunks WHERE vector_store_id = @store", pgConnection);
            pgCommand.Parameters.AddWithValue("store", storeId);
            return (long)(await pgCommand.ExecuteScalarAsync())!;
        }

        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDir, "quiver.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM chunks WHERE vector_store_id = $store";
        command.Parameters.AddWithValue("$store", storeId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Standard BEIR (pytrec_eval) metrics for one query: linear gains, log2 discounts, ideal DCG from the qrels.</summary>
    private readonly record struct Metrics(double Ndcg10, double Recall10, double Recall100, double Mrr10)
    {
        public static Metrics Score(List<string> ranked, Dictionary<string, int> relevant)
        {
            var dcg = 0.0;
            var mrr = 0.0;
            int hits10 = 0, hits100 = 0;
            for (var i = 0; i < Math.Min(100, ranked.Count); i++)
            {
                var rel = relevant.GetValueOrDefault(ranked[i]);
                if (rel <= 0)
                {
                    continue;
                }

                hits100++;
                if (i < 10)
                {
                    hits10++;
                    dcg += rel / Math.Log2(i + 2);
                    if (mrr == 0)
                    {
                        mrr = 1.0 / (i + 1);
                    }
                }
            }

            var ideal = relevant.Values.Where(r => r > 0).OrderDescending().Take(10).Select((r, i) => r / Math.Log2(i + 2)).Sum();
            var count = relevant.Values.Count(r => r > 0);
            return new Metrics(ideal > 0 ? dcg / ideal : 0, (double)hits10 / count, (double)hits100 / count, mrr);
        }

        public static Metrics Mean(List<Metrics> all) =>
            new(all.Average(m => m.Ndcg10), all.Average(m => m.Recall10), all.Average(m => m.Recall100), all.Average(m => m.Mrr10));
    }

    private static IEnumerable<JsonElement> ReadJsonLines(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                yield return JsonDocument.Parse(line).RootElement;
            }
        }
    }

    private static Dictionary<string, Dictionary<string, int>> ReadQrels(string path)
    {
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var parts = line.Split('\t');
            if (parts.Length < 3)
            {
                continue;
            }

            var score = int.Parse(parts[2], CultureInfo.InvariantCulture);
            if (!qrels.TryGetValue(parts[0], out var docs))
            {
                qrels[parts[0]] = docs = new Dictionary<string, int>(StringComparer.Ordinal);
            }

            docs[parts[1]] = score;
        }

        return qrels;
    }


    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

}

/// <summary>Collects the search service's per-leg latencies (<c>quiver.search.duration</c>, tag <c>leg</c>) in process.</summary>
internal sealed class SearchLegTimes : IDisposable
{
    private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Leg, double Ms)> _times = new();

    public SearchLegTimes()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "quiver.search.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "leg" && tag.Value is string leg)
                {
                    _times.Enqueue((leg, seconds * 1000));
                }
            }
        });
        _listener.Start();
    }

    public void Clear() => _times.Clear();

    /// <summary>"leg p50, …" for the legs seen since the last <see cref="Clear"/>.</summary>
    public string Summary() => string.Join(", ", _times.GroupBy(t => t.Leg).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
    {
        var sorted = g.Select(t => t.Ms).Order().ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{g.Key} {sorted[sorted.Count / 2]:F1}");
    }));

    public void Dispose() => _listener.Dispose();
}
