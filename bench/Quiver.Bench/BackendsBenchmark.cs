using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quiver.Core.Chunking;
using Quiver.Core.Embeddings;
using Quiver.Core.Files;
using Quiver.Core.Hosting;
using Quiver.Core.Ingestion;
using Quiver.Core.Search;
using Quiver.Core.Storage.Postgres;
using Quiver.Core.Tenancy;
using Quiver.Core.VectorStores;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;

using static Quiver.Bench.BenchSupport;

namespace Quiver.Bench;

/// <summary>
/// The same store on both storage backends, side by side, in one run (issue 7):
/// <code>
/// backends [--pg CONNSTR] [--files 10000] [--chunks-per-file 10] [--dims 384] [--clusters 1000] [--queries 200]
///          [--loaders 2] [--hnsw bulk|incremental] [--reindex true] [--extra-files 200]
///          [--hash-docs 1000] [--ingest-docs 300] [--ingest-models hash,local:snowflake-arctic-embed-xs]
///          [--corpus PATH] [--workers 0] [--parts store,ingest] [--backends sqlite,postgres] [--keep-pg false]
/// </code>
/// <list type="number">
/// <item>Store: <c>files × chunks-per-file</c> synthetic clustered vectors (seed 42) with pseudo-word text,
/// loaded into a fresh SQLite data dir and a fresh PostgreSQL database through the real write path
/// (<see cref="FileService"/>, <see cref="VectorStoreService"/> batches, then
/// <see cref="IIngestionJobStore.ClaimNextAsync"/> + <see cref="IIngestionJobStore.PublishAsync"/>, as the
/// ingestion workers do once a file is embedded). By default the PostgreSQL HNSW index is built once after
/// the load, by the production code; what incremental maintenance costs is measured separately.</item>
/// <item>Search: latency and recall@10 against an exact top-10 computed here, for the backend's
/// <see cref="IChunkSearchStore.DenseSearchAsync"/> (k = 10, unfiltered and with a filter keeping 10% of
/// files) and for <see cref="VectorStoreSearchService"/> (dense and hybrid).</item>
/// <item>Ingestion: real <c>Quiver.Server</c> processes (1 on SQLite, 1 and 2 on PostgreSQL) ingesting SciFact
/// documents as one file batch, with a cheap hashing embedder (served by this benchmark as an
/// OpenAI-compatible endpoint, configured through <c>Quiver:Embeddings:Remote</c>) and with a real local model.</item>
/// </list>
/// </summary>
internal static partial class BackendsBenchmark
{
    private const string SyntheticModelId = "bench:synthetic";
    private const string HashModelId = "openai:bench-hash";
    private const string ServerKey = "bench-backends-key";
    private const int K = 10;
    private const int Warmup = 10;
    private const int ProgressSeconds = 20;
    private static readonly Principal Principal = new(ApiKeyAuthenticationMiddleware.DefaultProject, "");

    /// <summary>The filter of the filtered searches: files whose ordinal is divisible by 10 carry <c>shard = 0</c>.</summary>
    private const string TenPercentFilter = """{"type": "eq", "key": "shard", "value": 0}""";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        var pg = options.Get("pg", Environment.GetEnvironmentVariable("QUIVER_TEST_PG") ?? "");
        if (pg.Length == 0)
        {
            Console.Error.WriteLine("backends needs a PostgreSQL server: pass --pg CONNSTR or set QUIVER_TEST_PG (a role that may CREATE DATABASE; superuser for CREATE EXTENSION vector).");
            return 2;
        }

        var parts = options.Get("parts", "store,ingest").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var report = new Report();
        var loads = new List<string>();
        void NoteLoad(string phase) => loads.Add($"{phase}: {LoadAverage()}");

        Console.WriteLine($"backends: {Environment.ProcessorCount} cores; load average at start {LoadAverage()}");
        NoteLoad("start");
        var runStarted = Stopwatch.GetTimestamp();
        try
        {
            if (parts.Contains("store"))
            {
                var spec = new CorpusSpec(
                    options.Int("files", 10_000), options.Int("chunks-per-file", 10), options.Int("dims", 384),
                    options.Int("clusters", 1_000), options.Int("queries", 200));
                var started = Stopwatch.GetTimestamp();
                var corpus = SyntheticCorpus.Create(spec);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"corpus: {spec.Files:N0} files × {spec.ChunksPerFile} chunks = {corpus.Count:N0} × {spec.Dims}-d vectors in {spec.Clusters:N0} clusters, " +
                    $"{spec.Queries} queries, exact top-{K} (all and 10% of files) in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s"));
                var size = F($"{corpus.Count:N0} ({spec.Files:N0})");
                report.SetBoth("store", "chunks (files)", size, size);

                var hnsw = options.Get("hnsw", "bulk");
                if (hnsw is not ("bulk" or "incremental"))
                {
                    Console.Error.WriteLine($"--hnsw is '{hnsw}'; expected bulk (build after the load, the default) or incremental (maintained by every publish).");
                    return 2;
                }

                var storeOptions = new StoreOptions(options.Int("loaders", 2), hnsw == "bulk", options.Get("reindex", "true") == "true", options.Int("extra-files", 200));
                var backends = options.Get("backends", "sqlite,postgres");
                if (backends.Contains("sqlite", StringComparison.Ordinal))
                {
                    await MeasureStoreAsync(Backend.Sqlite, null, corpus, storeOptions, report);
                    NoteLoad("after the SQLite store");
                }

                if (backends.Contains("postgres", StringComparison.Ordinal))
                {
                    var database = await CreateDatabaseAsync(pg);
                    try
                    {
                        await MeasureStoreAsync(Backend.Postgres, database.ConnectionString, corpus, storeOptions, report);
                    }
                    finally
                    {
                        if (options.Get("keep-pg", "false") == "true")
                        {
                            Console.WriteLine($"kept the PostgreSQL store's database {database.Name} (--keep-pg true); drop it when done");
                        }
                        else
                        {
                            await DropDatabaseAsync(pg, database.Name);
                        }
                    }

                    NoteLoad("after the PostgreSQL store");
                }
            }

            if (parts.Contains("ingest"))
            {
                await MeasureIngestionAsync(options, pg, report, NoteLoad);
            }
        }
        finally
        {
            Console.WriteLine();
            report.Print();
            Console.WriteLine();
            Console.WriteLine(F($"Run time {Stopwatch.GetElapsedTime(runStarted).TotalMinutes:F1} min. Load average (1/5/15 min) by phase:"));
            foreach (var line in loads)
            {
                Console.WriteLine("- " + line);
            }
        }

        return 0;
    }

    private enum Backend
    {
        Sqlite,
        Postgres,
    }

    private static string Column(Backend backend) => backend == Backend.Sqlite ? "SQLite" : "PostgreSQL";

    // ------------------------------------------------------------------------------------------
    // Part 1 and 2: the same store on each backend, loaded through the real write path, then searched.
    // ------------------------------------------------------------------------------------------

    private static async Task MeasureStoreAsync(Backend backend, string? connectionString, SyntheticCorpus corpus, StoreOptions options, Report report)
    {
        var column = Column(backend);
        var dataDir = Path.Combine(Path.GetTempPath(), "quiver-bench-backends-" + Guid.NewGuid().ToString("N"));
        var bulkHnsw = backend == Backend.Postgres && options.BulkHnsw;
        Console.WriteLine();
        Console.WriteLine($"== {column}: loading {corpus.Count:N0} chunks with {options.Loaders} loaders{(bulkHnsw ? ", HNSW built after the load" : "")} ==");
        using var host = BuildStoreHost(backend, dataDir, connectionString, corpus);
        await host.StartAsync();
        try
        {
            var services = host.Services;
            var ct = CancellationToken.None;

            // Files: staged and committed through the blob store and FileService, as an upload is.
            var started = Stopwatch.GetTimestamp();
            var blobs = services.GetRequiredService<IBlobStore>();
            var fileService = services.GetRequiredService<FileService>();
            var fileIds = new string[corpus.Spec.Files];
            await Parallel.ForAsync(0, corpus.Spec.Files, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (f, token) =>
            {
                var staged = await blobs.StageAsync(new MemoryStream(Encoding.UTF8.GetBytes(corpus.FileText(f))), long.MaxValue, token);
                fileIds[f] = (await fileService.CreateAsync(Principal, $"doc{f:D5}.txt", "assistants", staged, token)).Id;
            });
            var filesTime = Stopwatch.GetElapsedTime(started);
            Console.WriteLine(F($"  {corpus.Spec.Files:N0} files created in {filesTime.TotalSeconds:F1} s"));
            report.Set("store", "files created: FileService + blob store, 4 concurrent (s)", column, F($"{filesTime.TotalSeconds:F1}"));

            // The store: on PostgreSQL this creates the dimension's HNSW index, on an empty table, so every publish maintains it.
            var stores = services.GetRequiredService<VectorStoreService>();
            var store = await stores.CreateStoreAsync(Principal, "backends-bench", null, AttributeMap.Empty, null, SyntheticModelId, [], ct);
            if (bulkHnsw)
            {
                // Incremental HNSW inserts cost several ms per row on this machine (a 100k load would take
                // 10+ minutes), so by default the index is dropped here and built once after the load by the
                // production code (PostgresVectorIndexes.EnsureAsync). What incremental maintenance costs is
                // measured below, by publishing into a second store once the index holds every row.
                await PostgresExecuteAsync(connectionString!, $"DROP INDEX {PostgresIndexName(corpus.Spec.Dims)}");
            }

            var ordinalOf = fileIds.Select((id, f) => (id, f)).ToDictionary(p => p.id, p => p.f, StringComparer.Ordinal);
            var load = await LoadAsync(services, store, Enumerable.Range(0, corpus.Spec.Files).Select(f => fileIds[f]).ToList(), corpus, ordinalOf, options.Loaders);
            var final = await stores.GetStoreAsync(Principal, store.Id, ct);
            if (final.FileCounts.Completed != corpus.Spec.Files)
            {
                throw new InvalidOperationException($"Expected {corpus.Spec.Files} completed files, the store says {final.FileCounts}.");
            }

            var hnswLabel = backend == Backend.Sqlite ? "" : bulkHnsw ? " (no HNSW index yet)" : " (HNSW maintained)";
            report.Set("store", F($"attach: {(corpus.Spec.Files + 1_999) / 2_000} file batches of ≤ 2,000 (s)"), column, F($"{load.Attach.TotalSeconds:F1}"));
            report.Set("store", $"load: claim + publish, {options.Loaders} loaders, a batch at a time, wall (s)", column, F($"{load.Wall.TotalSeconds:F1}{hnswLabel}"));
            report.Set("store", "load: chunks/s", column, F($"{corpus.Count / load.Wall.TotalSeconds:N0}"));
            report.Set("store", F($"load: mean claim / publish ({corpus.Spec.ChunksPerFile} chunks) call (ms)"), column, F($"{load.ClaimMs:F1} / {load.PublishMs:F1}"));

            var keys = await ReadChunkKeysAsync(backend, dataDir, connectionString, store.Id, corpus.Spec.ChunksPerFile);
            if (backend == Backend.Postgres)
            {
                // Autovacuum would analyze the new rows within a minute or so; do it now so the planner's
                // choices (HNSW vs. exact scan for the filtered query) do not depend on when that happened.
                started = Stopwatch.GetTimestamp();
                // What autovacuum does soon after a bulk load (insert-driven vacuum): statistics, and the visibility map
                // that lets the lexical query's postings be read by index-only scans.
                await PostgresExecuteAsync(connectionString!, "VACUUM ANALYZE");
                Console.WriteLine(F($"  VACUUM ANALYZE {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s"));
            }

            const string HnswBuildRow = "HNSW build over the loaded rows (s)";
            const string HnswSizeRow = "HNSW index size (MiB)";
            if (backend == Backend.Sqlite)
            {
                // Vectors are loaded into memory by the first search; the HNSW graph is then built in the
                // background (timed in MeasureSearchAsync), and its file written beside the database.
                report.Set("store", HnswSizeRow, column, "(file written after the build)");
            }

            if (bulkHnsw)
            {
                // A fresh instance: the registered one remembers that it already ensured this dimension.
                started = Stopwatch.GetTimestamp();
                await new PostgresVectorIndexes(services.GetRequiredService<PostgresDatabase>()).EnsureAsync(corpus.Spec.Dims, ct);
                var built = Stopwatch.GetElapsedTime(started);
                Console.WriteLine(F($"  HNSW index built over {corpus.Count:N0} rows in {built.TotalSeconds:F1} s"));
                report.Set("store", HnswBuildRow, column, F($"{built.TotalSeconds:F1}"));
            }

            report.Set("store", "database size on disk (MiB)", column, F($"{await DatabaseBytesAsync(backend, dataDir, connectionString) / 1048576.0:N0}"));
            if (backend == Backend.Postgres)
            {
                var index = await PostgresScalarAsync(connectionString!, $"SELECT pg_relation_size('{PostgresIndexName(corpus.Spec.Dims)}')");
                report.Set("store", HnswSizeRow, column, F($"{Convert.ToInt64(index, CultureInfo.InvariantCulture) / 1048576.0:N0}"));
            }

            await MeasureSearchAsync(services, store, corpus, keys, column, report);

            if (backend == Backend.Postgres && !bulkHnsw && options.Reindex)
            {
                // The index above grew insert by insert, as it does in service. A bulk build of the same
                // rows, with the maintenance_work_mem PostgresVectorIndexes uses, shows what a rebuild costs.
                started = Stopwatch.GetTimestamp();
                await PostgresExecuteAsync(connectionString!, $"SET maintenance_work_mem = '1GB'; REINDEX INDEX {PostgresIndexName(corpus.Spec.Dims)}");
                var rebuilt = Stopwatch.GetElapsedTime(started);
                Console.WriteLine(F($"  REINDEX (bulk HNSW build of {corpus.Count:N0} rows) {rebuilt.TotalSeconds:F1} s"));
                report.Set("store", "HNSW bulk rebuild: REINDEX, maintenance_work_mem 1 GB (s)", column, F($"{rebuilt.TotalSeconds:F1}"));
                var chunks = services.GetRequiredService<IChunkSearchStore>();
                var (latencies, recall) = await DenseRunAsync(chunks, store, corpus, keys, filtered: false);
                report.Set("search", "dense k=10 after the bulk rebuild: p50 / p99 ms, recall@10", column,
                    F($"{Percentile(latencies, 0.50):F1} / {Percentile(latencies, 0.99):F1}, {recall:F3}"));
            }

            if (options.ExtraFiles > 0)
            {
                // Publishing once the table (and on PostgreSQL the HNSW index) already holds the whole store: the
                // first files again, attached to a second store, so the measured store's searches above are unaffected.
                var extra = await stores.CreateStoreAsync(Principal, "backends-bench-extra", null, AttributeMap.Empty, null, SyntheticModelId, [], ct);
                var more = await LoadAsync(services, extra, [.. fileIds.Take(options.ExtraFiles)], corpus, ordinalOf, options.Loaders);
                var rows = options.ExtraFiles * corpus.Spec.ChunksPerFile;
                report.Set("store", F($"publish {rows:N0} more chunks into a second store, table at {corpus.Count:N0} rows: chunks/s, mean publish ms"), column,
                    F($"{rows / more.Wall.TotalSeconds:N0}, {more.PublishMs:F1}"));
            }
        }
        finally
        {
            await host.StopAsync();
            SqliteConnection.ClearAllPools();
            TryDelete(dataDir);
        }
    }

    /// <summary>How part 1 loads and measures the store.</summary>
    private sealed record StoreOptions(int Loaders, bool BulkHnsw, bool Reindex, int ExtraFiles);

    /// <summary>Timings of one load: attach (batch creation) time, claim + publish wall time, and mean call times.</summary>
    private sealed record LoadResult(TimeSpan Attach, TimeSpan Wall, double ClaimMs, double PublishMs);

    /// <summary>
    /// Attaches <paramref name="fileIds"/> in batches of ≤ 2,000 (the API's limit) and publishes every file's
    /// synthetic chunks through <see cref="IIngestionJobStore.ClaimNextAsync"/> and
    /// <see cref="IIngestionJobStore.PublishAsync"/>: what a worker does once a file is extracted and embedded.
    /// Each batch is drained before the next is attached: the PostgreSQL claim query evaluates its fairness
    /// subquery once per runnable job, so with 10,000 queued a claim costs ~50 ms here and the load would
    /// mostly measure that (a finding of its own); a client sending one batch at a time avoids it.
    /// </summary>
    private static async Task<LoadResult> LoadAsync(
        IServiceProvider services, VectorStoreRecord store, List<string> fileIds, SyntheticCorpus corpus, Dictionary<string, int> ordinalOf, int loaders)
    {
        var stores = services.GetRequiredService<VectorStoreService>();
        var jobs = services.GetRequiredService<IIngestionJobStore>();
        var ct = CancellationToken.None;
        long claimTicks = 0, publishTicks = 0, published = 0, attachTicks = 0;
        var started = Stopwatch.GetTimestamp();
        var lastReport = started;
        foreach (var part in fileIds.Chunk(2_000))
        {
            var attachStarted = Stopwatch.GetTimestamp();
            await stores.CreateBatchAsync(Principal, store.Id,
                [.. part.Select(id => new AttachRequest(id, AttributeMap.FromJson($$"""{"shard":{{ordinalOf[id] % 10}}}"""), ChunkingSpec.Request.Auto))], null, ct);
            attachTicks += Stopwatch.GetTimestamp() - attachStarted;
            await Task.WhenAll(Enumerable.Range(0, loaders).Select(loader => Task.Run(async () =>
            {
                var owner = $"bench-loader-{loader}";
                while (true)
                {
                    var t = Stopwatch.GetTimestamp();
                    var job = await jobs.ClaimNextAsync(owner, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 3_600_000, 3_600_000, ct);
                    Interlocked.Add(ref claimTicks, Stopwatch.GetTimestamp() - t);
                    if (job is null)
                    {
                        return;
                    }

                    var f = ordinalOf[job.FileId];
                    var (chunks, usage) = corpus.ChunksToPublish(f);
                    t = Stopwatch.GetTimestamp();
                    if (!await jobs.PublishAsync(job, chunks, corpus.FileText(f), usage, ct))
                    {
                        throw new InvalidOperationException($"Publication of {job.FileId} was fenced; nothing else should touch the store.");
                    }

                    Interlocked.Add(ref publishTicks, Stopwatch.GetTimestamp() - t);
                    var done = Interlocked.Increment(ref published);
                    if (loader == 0 && Stopwatch.GetElapsedTime(lastReport).TotalSeconds >= ProgressSeconds)
                    {
                        lastReport = Stopwatch.GetTimestamp();
                        Console.WriteLine(F($"  … {done:N0}/{fileIds.Count:N0} files published after {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s; ") +
                            F($"mean claim {Ms(Interlocked.Read(ref claimTicks)) / done:F1} ms, publish {Ms(Interlocked.Read(ref publishTicks)) / done:F1} ms"));
                    }
                }
            })));
        }

        var attach = Stopwatch.GetElapsedTime(0, attachTicks);
        var result = new LoadResult(attach, Stopwatch.GetElapsedTime(started) - attach, Ms(claimTicks) / fileIds.Count, Ms(publishTicks) / fileIds.Count);
        Console.WriteLine(F($"  {fileIds.Count:N0} files: attach {result.Attach.TotalSeconds:F1} s, claim+publish {result.Wall.TotalSeconds:F1} s wall, ") +
            F($"mean claim {result.ClaimMs:F1} ms, mean publish {result.PublishMs:F1} ms"));
        return result;

        static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
    }

    private static string PostgresIndexName(int dims) => PostgresVectorIndexes.NameFor(dims);

    /// <summary>
    /// The real composition (<see cref="QuiverCoreRegistration.AddQuiverCore"/>) without HTTP, with the
    /// synthetic model registered so stores can name it and queries resolve to the benchmark's vectors.
    /// </summary>
    private static IHost BuildStoreHost(Backend backend, string dataDir, string? connectionString, SyntheticCorpus corpus)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Quiver:DataDir"] = dataDir,
            ["Quiver:Embeddings:Default"] = SyntheticModelId,
            ["Quiver:Storage:Provider"] = backend == Backend.Sqlite ? "sqlite" : "postgres",
            // No command timeout: the HNSW build after the load runs through PostgresVectorIndexes, whose CREATE INDEX
            // takes longer than Npgsql's default 30 s over 100k rows here (it failed with a timeout at the default).
            ["ConnectionStrings:Quiver"] = connectionString is null ? null : new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 }.ConnectionString,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddQuiverCore();
        builder.Services.AddSingleton(new EmbeddingModel(
            new EmbeddingModelInfo(SyntheticModelId, "bench", "synthetic", corpus.Spec.Dims, 8192, 64, 400, 100), new QueryLookupGenerator(corpus)));

        // The benchmark is the only worker: it claims and publishes the synthetic chunks itself, so the
        // in-process workers must not race it for the jobs (they would try to embed the files).
        var workers = builder.Services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(IngestionWorker)).ToList();
        foreach (var worker in workers)
        {
            builder.Services.Remove(worker);
        }

        return builder.Build();
    }

    private static async Task MeasureSearchAsync(IServiceProvider services, VectorStoreRecord store, SyntheticCorpus corpus, Dictionary<long, int> keys, string column, Report report)
    {
        var chunks = services.GetRequiredService<IChunkSearchStore>();
        var search = services.GetRequiredService<VectorStoreSearchService>();

        // The first search pays for what the backend builds lazily: SQLite loads every vector of the store into memory.
        var started = Stopwatch.GetTimestamp();
        await chunks.DenseSearchAsync(store.Id, corpus.Spec.Dims, [corpus.Queries[0].Vector], K, null, CancellationToken.None);
        var first = Stopwatch.GetElapsedTime(started);
        Console.WriteLine(F($"  first dense search {first.TotalMilliseconds:F0} ms"));
        report.Set("search", "first dense search after the load (ms)", column, F($"{first.TotalMilliseconds:N0}"));

        // The embedded backend then builds the store's HNSW graph in the background (100k ≥ the switch-over);
        // measure once it has caught up, so the figures are for the path large stores use, not for a scan
        // competing with the build for the CPU.
        var switchOver = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SearchOptions>>().Value.HnswMinChunks;
        if (chunks is Quiver.Core.Storage.Sqlite.SqliteChunkSearchStore embedded && switchOver > 0 && corpus.Count >= switchOver)
        {
            started = Stopwatch.GetTimestamp();
            while (embedded.GraphStateOf(store.Id) is not ({ } graph, var version) || graph.AppliedVersion != version)
            {
                await Task.Delay(100);
                await chunks.DenseSearchAsync(store.Id, corpus.Spec.Dims, [corpus.Queries[0].Vector], K, null, CancellationToken.None);
            }

            var build = Stopwatch.GetElapsedTime(started);
            Console.WriteLine(F($"  HNSW graph caught up {build.TotalSeconds:F1} s after the first search"));
            report.Set("store", "HNSW build over the loaded rows (s)", column, F($"{build.TotalSeconds:F1} (in the background)"));
        }

        var (dense, denseRecall) = await DenseRunAsync(chunks, store, corpus, keys, filtered: false);
        report.Set("search", "dense k=10 (IChunkSearchStore): p50 / p99 ms", column, F($"{Percentile(dense, 0.50):F1} / {Percentile(dense, 0.99):F1}"));
        report.Set("search", "dense k=10: recall@10 vs exact", column, F($"{denseRecall:F3}"));

        var (filtered, filteredRecall) = await DenseRunAsync(chunks, store, corpus, keys, filtered: true);
        report.Set("search", "dense k=10, filter keeps 10% of files: p50 / p99 ms", column, F($"{Percentile(filtered, 0.50):F1} / {Percentile(filtered, 0.99):F1}"));
        report.Set("search", "dense k=10, 10% filter: recall@10 vs exact filtered", column, F($"{filteredRecall:F3}"));

        foreach (var (name, ranker) in new[] { ("service, ranker none", Ranker.DenseOnly), ("service, hybrid (RRF)", Ranker.Hybrid) })
        {
            var latencies = new List<double>(corpus.Queries.Length);
            var recall = 0.0;
            for (var i = -Warmup; i < corpus.Queries.Length; i++)
            {
                var query = corpus.Queries[Math.Max(0, i)];
                var t = Stopwatch.GetTimestamp();
                var result = await search.SearchStoreAsync(store, [query.Text], new SearchRequest([query.Text], K, null, ranker, 0f, null, false), CancellationToken.None);
                var elapsed = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                if (i >= 0)
                {
                    latencies.Add(elapsed);
                    recall += Recall([.. result.Items.Select(r => r.ChunkKey)], keys, query.Exact);
                }
            }

            var cell = F($"{Percentile(latencies, 0.50):F1} / {Percentile(latencies, 0.95):F1} / {Percentile(latencies, 0.99):F1}");
            // Hybrid mixes in BM25 by design, so its overlap with the exact dense top-10 is not a recall.
            report.Set("search", $"{name}, 10 results: p50 / p95 / p99 ms{(ranker == Ranker.DenseOnly ? ", recall@10" : "")}", column,
                ranker == Ranker.DenseOnly ? cell + F($", {recall / corpus.Queries.Length:F3}") : cell);
        }

        Console.WriteLine(F($"  dense p50 {Percentile(dense, 0.50):F1} ms recall {denseRecall:F3}; filtered p50 {Percentile(filtered, 0.50):F1} ms recall {filteredRecall:F3}"));
    }

    /// <summary>
    /// k=10 dense searches through the backend's store, one query per call as the service makes them.
    /// Filtered: the backend applies the filter inside its retrieval, so its cost is inside the timing.
    /// </summary>
    private static async Task<(List<double> Latencies, double Recall)> DenseRunAsync(
        IChunkSearchStore chunks, VectorStoreRecord store, SyntheticCorpus corpus, Dictionary<long, int> keys, bool filtered)
    {
        var filter = FilterParser.Parse(JsonDocument.Parse(TenPercentFilter).RootElement);
        var latencies = new List<double>(corpus.Queries.Length);
        var recall = 0.0;
        for (var i = -Warmup; i < corpus.Queries.Length; i++)
        {
            var query = corpus.Queries[Math.Max(0, i)];
            var t = Stopwatch.GetTimestamp();
            var hits = await chunks.DenseSearchAsync(store.Id, corpus.Spec.Dims, [query.Vector], K, filtered ? filter : null, CancellationToken.None);
            var elapsed = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            if (i >= 0)
            {
                latencies.Add(elapsed);
                recall += Recall([.. hits[0].Select(h => h.Key)], keys, filtered ? query.ExactFiltered : query.Exact);
            }
        }

        return (latencies, recall / corpus.Queries.Length);
    }

    private static double Recall(long[] found, Dictionary<long, int> keys, int[] exact)
    {
        var truth = exact.ToHashSet();
        return found.Take(K).Count(key => keys.TryGetValue(key, out var ordinal) && truth.Contains(ordinal)) / (double)exact.Length;
    }

    /// <summary>Chunk key → corpus ordinal (file ordinal × chunks per file + chunk index), read back from the backend's table.</summary>
    private static async Task<Dictionary<long, int>> ReadChunkKeysAsync(Backend backend, string dataDir, string? connectionString, string storeId, int chunksPerFile)
    {
        const string sql = "SELECT c.id, f.filename, c.chunk_index FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.vector_store_id = @store";
        var keys = new Dictionary<long, int>();
        // Files are named doc<ordinal>.txt.
        void Add(long id, string filename, int index) => keys[id] = (int.Parse(filename.AsSpan(3, filename.Length - 7), CultureInfo.InvariantCulture) * chunksPerFile) + index;
        if (backend == Backend.Sqlite)
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDir, "quiver.db")};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("@store", storeId);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                Add(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2));
            }
        }
        else
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("store", storeId);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                Add(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2));
            }
        }

        return keys;
    }

    private static async Task<long> DatabaseBytesAsync(Backend backend, string dataDir, string? connectionString)
    {
        if (backend == Backend.Postgres)
        {
            return Convert.ToInt64(await PostgresScalarAsync(connectionString!, "SELECT pg_database_size(current_database())"), CultureInfo.InvariantCulture);
        }

        // The database with its WAL; file bytes (the blobs directory) are not counted on either side.
        return new DirectoryInfo(dataDir).EnumerateFiles("quiver.db*").Sum(f => f.Length);
    }

    // ------------------------------------------------------------------------------------------
    // Part 3: ingestion throughput with real server processes.
    // ------------------------------------------------------------------------------------------

    private static async Task MeasureIngestionAsync(BenchOptions options, string pg, Report report, Action<string> noteLoad)
    {
        var corpusPath = options.Get("corpus", "/work/shared/datasets/scifact/corpus.jsonl");
        var models = options.Get("ingest-models", $"hash,{LocalModels.ArcticXsId}").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var workers = options.Int("workers", 0);
        // The hash embedder is fast enough that a few hundred docs finish in seconds; it gets more (≤ 2,000: one batch).
        var allDocs = ReadCorpus(corpusPath, Math.Max(options.Int("ingest-docs", 300), options.Int("hash-docs", 1_000)));
        var serverDll = Path.Combine(AppContext.BaseDirectory, "Quiver.Server.dll");
        Console.WriteLine();
        Console.WriteLine($"== ingestion: SciFact docs from {corpusPath} as one batch; server {serverDll}; " +
            $"workers per process {(workers > 0 ? workers.ToString(CultureInfo.InvariantCulture) : "default (one per processor)")} ==");

        await using var embedder = await HashEmbeddingServer.StartAsync();
        foreach (var model in models)
        {
            var modelId = model == "hash" ? HashModelId : model;
            var label = model == "hash" ? "hash embedder" : model;
            var docs = allDocs.Take(options.Int(model == "hash" ? "hash-docs" : "ingest-docs", model == "hash" ? 1_000 : 300)).ToList();
            foreach (var (backend, processes) in new[] { (Backend.Sqlite, 1), (Backend.Postgres, 1), (Backend.Postgres, 2) })
            {
                var run = await IngestOnceAsync(backend, processes, modelId, docs, workers, pg, embedder.BaseUrl);
                var column = Column(backend);
                var metric = $"ingest {docs.Count} docs, {label}, {processes} process{(processes > 1 ? "es" : "")}: files/s, chunks/s (wall s; server CPU s)";
                report.Set("ingest", metric, column, F($"{run.Files / run.Seconds:F1}, {run.Chunks / run.Seconds:F1} ({run.Seconds:F1}; CPU {run.CpuSeconds:F0})"));
                if (backend == Backend.Sqlite)
                {
                    report.Set("ingest", $"ingest {docs.Count} docs, {label}, 2 processes: files/s, chunks/s (wall s; server CPU s)", column, "n/a (one process per data dir)");
                }

                Console.WriteLine(F($"  {column}, {processes} process(es), {label}: {run.Files} files ({run.Failed} failed), {run.Chunks} chunks in {run.Seconds:F1} s ") +
                    F($"= {run.Files / run.Seconds:F1} files/s, {run.Chunks / run.Seconds:F1} chunks/s; upload {run.UploadSeconds:F1} s; ") +
                    F($"files per process {string.Join("/", run.PerProcess)}; server CPU {run.CpuSeconds:F1} s"));
                if (run.Failed > 0)
                {
                    throw new InvalidOperationException($"{run.Failed} files failed ingestion.");
                }

                noteLoad($"after ingest {Column(backend)} ×{processes} ({label})");
            }
        }
    }

    private sealed record IngestRun(int Files, int Failed, long Chunks, double Seconds, double UploadSeconds, int[] PerProcess, double CpuSeconds);

    private static async Task<IngestRun> IngestOnceAsync(Backend backend, int processes, string modelId, List<string> docs, int workers, string pg, string embedderUrl)
    {
        (string Name, string ConnectionString)? database = backend == Backend.Postgres ? await CreateDatabaseAsync(pg) : null;
        var sqliteDir = Path.Combine(Path.GetTempPath(), "quiver-bench-backends-ingest-" + Guid.NewGuid().ToString("N"));
        var servers = new List<ServerProcess>();
        try
        {
            for (var i = 0; i < processes; i++)
            {
                var dataDir = backend == Backend.Sqlite ? sqliteDir : Path.Combine(Path.GetTempPath(), "quiver-bench-backends-ingest-" + Guid.NewGuid().ToString("N"));
                servers.Add(ServerProcess.Start(dataDir, database?.ConnectionString, workers, embedderUrl));
            }

            await Task.WhenAll(servers.Select(s => s.WaitReadyAsync()));
            // The local model loads on first use; load it in every process before the clock starts.
            await Task.WhenAll(servers.Select(s => s.PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { model = modelId, input = new[] { "warm up" } }))));

            var http = servers[0].Client;
            var upload = Stopwatch.StartNew();
            var fileIds = await UploadTextFilesAsync(http, docs);
            upload.Stop();

            var store = await servers[0].PostAsync("/v1/vector_stores", JsonSerializer.Serialize(new { name = "ingest-bench", embedding_model = modelId }));
            var storeId = (string)store["id"]!;
            // Static 400/100 for every model: the same chunks whatever the embedder (400/100 is what auto gives arctic-embed-xs).
            var body = JsonSerializer.Serialize(new
            {
                file_ids = fileIds,
                chunking_strategy = new { type = "static", @static = new { max_chunk_size_tokens = 400, chunk_overlap_tokens = 100 } },
            });
            var clock = Stopwatch.StartNew();
            var cpuBefore = servers.Sum(s => s.CpuSeconds);
            var batch = await servers[^1].PostAsync($"/v1/vector_stores/{storeId}/file_batches", body);
            var batchId = (string)batch["id"]!;
            JsonObject state;
            while (true)
            {
                using var response = await http.GetAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}");
                state = await ReadAsync(response);
                if ((string?)state["status"] != "in_progress")
                {
                    break;
                }

                await Task.Delay(50);
            }

            clock.Stop();
            var cpu = servers.Sum(s => s.CpuSeconds) - cpuBefore;
            var counts = state["file_counts"]!;
            var chunks = await CountChunksAsync(backend, sqliteDir, database?.ConnectionString, storeId);
            await Task.Delay(200); // the last "Ingested" log lines
            return new IngestRun((int)counts["completed"]!, (int)counts["failed"]!, chunks, clock.Elapsed.TotalSeconds, upload.Elapsed.TotalSeconds,
                [.. servers.Select(s => s.IngestedCount)], cpu);
        }
        finally
        {
            foreach (var server in servers)
            {
                server.Dispose();
            }

            SqliteConnection.ClearAllPools();
            TryDelete(sqliteDir);
            if (database is { } db)
            {
                await DropDatabaseAsync(pg, db.Name);
            }
        }
    }

    private static async Task<long> CountChunksAsync(Backend backend, string sqliteDir, string? connectionString, string storeId)
    {
        const string sql = "SELECT COUNT(*) FROM chunks WHERE vector_store_id = @store";
        if (backend == Backend.Postgres)
        {
            await using var pgConnection = new NpgsqlConnection(connectionString);
            await pgConnection.OpenAsync();
            await using var pgCommand = new NpgsqlCommand(sql, pgConnection);
            pgCommand.Parameters.AddWithValue("store", storeId);
            return Convert.ToInt64(await pgCommand.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(sqliteDir, "quiver.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@store", storeId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static List<string> ReadCorpus(string path, int limit)
    {
        var docs = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            if (docs.Count >= limit)
            {
                break;
            }

            if (!string.IsNullOrWhiteSpace(line))
            {
                using var json = JsonDocument.Parse(line);
                docs.Add(json.RootElement.GetProperty("title").GetString() + "\n" + json.RootElement.GetProperty("text").GetString());
            }
        }

        return docs;
    }


    /// <summary>A <c>Quiver.Server</c> process started like <c>MultiProcessPostgresTests</c> starts them, counting the files it logs as ingested.</summary>
    private sealed partial class ServerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly string _dataDir;
        private readonly ConcurrentQueue<string> _log = new();
        private int _ingested;

        private ServerProcess(Process process, int port, string dataDir)
        {
            _process = process;
            _dataDir = dataDir;
            Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(10) };
            Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerKey);
            process.OutputDataReceived += (_, e) => OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public HttpClient Client { get; }

        public int IngestedCount => Volatile.Read(ref _ingested);

        public double CpuSeconds
        {
            get
            {
                _process.Refresh();
                return _process.TotalProcessorTime.TotalSeconds;
            }
        }

        public static ServerProcess Start(string dataDir, string? connectionString, int workers, string embedderUrl)
        {
            Directory.CreateDirectory(dataDir);
            var port = FreePort();
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Quiver.Server.dll"), "serve", "--urls", $"http://127.0.0.1:{port}", "--data-dir", dataDir })
            {
                info.ArgumentList.Add(arg);
            }

            info.Environment["QUIVER_API_KEY"] = ServerKey;
            info.Environment["DOTNET_ENVIRONMENT"] = "Production";
            info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            if (connectionString is not null)
            {
                info.Environment["Quiver__Storage__Provider"] = "postgres";
                info.Environment["ConnectionStrings__Quiver"] = connectionString;
            }

            if (workers > 0)
            {
                info.Environment["Quiver__Ingestion__Workers"] = workers.ToString(CultureInfo.InvariantCulture);
            }

            // The cheap embedder: an ordinary remote (OpenAI-compatible) model entry pointing at this benchmark.
            info.Environment["Quiver__Embeddings__Remote__0__Id"] = HashModelId;
            info.Environment["Quiver__Embeddings__Remote__0__BaseUrl"] = embedderUrl;
            info.Environment["Quiver__Embeddings__Remote__0__Dimensions"] = HashEmbeddingServer.Dimensions.ToString(CultureInfo.InvariantCulture);
            // Quiet, except the pipeline's one line per ingested file (to see how the work was shared).
            info.Environment["Logging__LogLevel__Default"] = "Warning";
            info.Environment["Logging__LogLevel__Quiver.Core.Ingestion.IngestionPipeline"] = "Information";
            info.Environment["Logging__Console__FormatterName"] = "systemd";
            return new ServerProcess(Process.Start(info)!, port, dataDir);
        }

        public async Task WaitReadyAsync()
        {
            var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 120);
            while (true)
            {
                if (_process.HasExited || Stopwatch.GetTimestamp() > deadline)
                {
                    throw new InvalidOperationException("Server not ready:\n" + string.Join('\n', _log));
                }

                try
                {
                    using var ready = await Client.GetAsync("/readyz");
                    if (ready.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(100);
            }
        }

        public async Task<JsonObject> PostAsync(string url, string json)
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            using var response = await Client.PostAsync(url, content);
            return await ReadAsync(response);
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            _log.Enqueue(line);
            if (IngestedLine().IsMatch(line))
            {
                Interlocked.Increment(ref _ingested);
            }
        }

        [GeneratedRegex(@"Ingested file-\w+ into ")]
        private static partial Regex IngestedLine();

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }

            _process.Dispose();
            Client.Dispose();
            TryDelete(_dataDir);
        }
    }

    /// <summary>
    /// An OpenAI-compatible <c>POST /v1/embeddings</c> on loopback that hashes words into a 384-d vector:
    /// deterministic and nearly free, so ingestion with it measures extraction, chunking, HTTP and storage
    /// rather than a neural model. The servers reach it through their ordinary remote-model configuration.
    /// </summary>
    private sealed class HashEmbeddingServer : IAsyncDisposable
    {
        public const int Dimensions = 384;

        private readonly WebApplication _app;

        private HashEmbeddingServer(WebApplication app, string baseUrl)
        {
            _app = app;
            BaseUrl = baseUrl;
        }

        public string BaseUrl { get; }

        public static async Task<HashEmbeddingServer> StartAsync()
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Production" });
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.MapPost("/v1/embeddings", async (HttpContext context) =>
            {
                using var request = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                var inputs = request.RootElement.GetProperty("input").EnumerateArray().Select(e => e.GetString() ?? "").ToList();
                context.Response.ContentType = "application/json";
                await using var writer = new Utf8JsonWriter(context.Response.Body);
                writer.WriteStartObject();
                writer.WriteString("object", "list");
                writer.WriteStartArray("data");
                for (var i = 0; i < inputs.Count; i++)
                {
                    writer.WriteStartObject();
                    writer.WriteString("object", "embedding");
                    writer.WriteNumber("index", i);
                    writer.WriteStartArray("embedding");
                    foreach (var value in Embed(inputs[i]))
                    {
                        writer.WriteNumberValue(value);
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteString("model", "bench-hash");
                writer.WriteEndObject();
                await writer.FlushAsync(context.RequestAborted);
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new HashEmbeddingServer(app, address + "/v1");
        }

        /// <summary>Signed feature hashing of lower-cased words (FNV-1a), plus a constant so no text maps to zero.</summary>
        private static float[] Embed(string text)
        {
            var vector = new float[Dimensions];
            vector[0] = 0.01f;
            foreach (var word in text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                var hash = 2166136261u;
                foreach (var c in word)
                {
                    hash = (hash ^ c) * 16777619u;
                }

                vector[hash % Dimensions] += (hash & 0x8000_0000) == 0 ? 1f : -1f;
            }

            return vector;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    // ------------------------------------------------------------------------------------------
    // The synthetic corpus and its exact answers.
    // ------------------------------------------------------------------------------------------

    private sealed record CorpusSpec(int Files, int ChunksPerFile, int Dims, int Clusters, int Queries);

    /// <summary>A query: a perturbed stored chunk vector, text from that chunk's topic, and the exact top-10s.</summary>
    private sealed record Query(float[] Vector, string Text, int[] Exact, int[] ExactFiltered);

    /// <summary>
    /// Vectors: <see cref="CorpusSpec.Clusters"/> Gaussian centres (unit variance per axis); each chunk picks a
    /// cluster at random and adds σ = 0.5 noise, then is normalised (as the pipeline publishes unit vectors).
    /// Text: 40 pseudo-words per chunk, a quarter from its cluster's 8 topic words, the rest from a
    /// 5,000-word Zipf-like background vocabulary, so the lexical leg has selective and common terms.
    /// Queries: a random stored chunk plus σ = 0.5 noise (before normalisation); query text is three of that
    /// chunk's topic words and one background word.
    /// </summary>
    private sealed class SyntheticCorpus
    {
        private const int TopicWords = 8;
        private const int BackgroundWords = 5_000;
        private const int WordsPerChunk = 40;

        /// <summary>Background words come after every cluster's topic words (at most 100,000 clusters × 8).</summary>
        private const int BackgroundStart = 800_000;

        private readonly float[] _vectors;
        private readonly string[] _texts;
        private readonly int[] _tokens;

        private SyntheticCorpus(CorpusSpec spec, float[] vectors, string[] texts, int[] tokens, Query[] queries)
        {
            Spec = spec;
            _vectors = vectors;
            _texts = texts;
            _tokens = tokens;
            Queries = queries;
            QueryVectors = queries.GroupBy(q => q.Text, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Vector, StringComparer.Ordinal);
        }

        public CorpusSpec Spec { get; }

        public int Count => Spec.Files * Spec.ChunksPerFile;

        public Query[] Queries { get; }

        /// <summary>Query text → vector, for the synthetic model (a text shared by two queries keeps the first vector).</summary>
        public Dictionary<string, float[]> QueryVectors { get; }

        public static SyntheticCorpus Create(CorpusSpec spec)
        {
            var random = new Random(42);
            var dims = spec.Dims;
            var centres = new float[spec.Clusters * dims];
            for (var i = 0; i < centres.Length; i++)
            {
                centres[i] = (float)Gaussian(random);
            }

            var count = spec.Files * spec.ChunksPerFile;
            var vectors = new float[count * dims];
            var norms = new float[count];
            var clusters = new int[count];
            var texts = new string[count];
            var words = new StringBuilder();
            for (var i = 0; i < count; i++)
            {
                var c = clusters[i] = random.Next(spec.Clusters);
                var v = vectors.AsSpan(i * dims, dims);
                for (var d = 0; d < dims; d++)
                {
                    v[d] = centres[(c * dims) + d] + (0.5f * (float)Gaussian(random));
                }

                norms[i] = TensorPrimitives.Norm(v);
                TensorPrimitives.Divide(v, norms[i], v);

                words.Clear();
                for (var w = 0; w < WordsPerChunk; w++)
                {
                    words.Append(w == 0 ? "" : " ").Append(random.Next(4) == 0 ? Topic(c, random.Next(TopicWords)) : Background(random));
                }

                texts[i] = words.ToString();
            }

            var tokens = new int[count];
            Parallel.For(0, count, i => tokens[i] = TextChunker.Instance.CountTokens(texts[i]));

            var queries = new (float[] Vector, string Text, int Member)[spec.Queries];
            for (var q = 0; q < queries.Length; q++)
            {
                var member = random.Next(count);
                var vector = new float[dims];
                for (var d = 0; d < dims; d++)
                {
                    vector[d] = (vectors[(member * dims) + d] * norms[member]) + (0.5f * (float)Gaussian(random));
                }

                TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
                var topics = Enumerable.Range(0, TopicWords).OrderBy(_ => random.Next()).Take(3).Select(t => Topic(clusters[member], t));
                queries[q] = (vector, string.Join(' ', topics.Append(Background(random))), member);
            }

            var exact = new Query[queries.Length];
            Parallel.For(0, queries.Length, q => exact[q] = new Query(queries[q].Vector, queries[q].Text,
                TopK(vectors, dims, queries[q].Vector, _ => true, spec.ChunksPerFile),
                TopK(vectors, dims, queries[q].Vector, InFilter, spec.ChunksPerFile)));
            return new SyntheticCorpus(spec, vectors, texts, tokens, exact);
        }

        /// <summary>The files the 10% filter keeps (their <c>shard</c> attribute is 0).</summary>
        public static bool InFilter(int file) => file % 10 == 0;

        public string FileText(int file) => string.Join("\n\n", _texts.AsSpan(file * Spec.ChunksPerFile, Spec.ChunksPerFile).ToArray());

        /// <summary>A file's chunks as the pipeline would publish them, with the usage it would count (text bytes + 4 bytes per dimension).</summary>
        public (List<ChunkToPublish> Chunks, long Usage) ChunksToPublish(int file)
        {
            var chunks = new List<ChunkToPublish>(Spec.ChunksPerFile);
            long usage = 0;
            for (var c = 0; c < Spec.ChunksPerFile; c++)
            {
                var i = (file * Spec.ChunksPerFile) + c;
                chunks.Add(new ChunkToPublish(c, _texts[i], _tokens[i], _vectors.AsSpan(i * Spec.Dims, Spec.Dims).ToArray()));
                usage += Encoding.UTF8.GetByteCount(_texts[i]) + ((long)Spec.Dims * sizeof(float));
            }

            return (chunks, usage);
        }

        /// <summary>Exact top-k ordinals by dot product (the vectors are unit length, so cosine) over the chunks of files passing <paramref name="fileFilter"/>.</summary>
        private static int[] TopK(float[] vectors, int dims, float[] query, Func<int, bool> fileFilter, int chunksPerFile)
        {
            var heap = new PriorityQueue<int, float>(K + 1);
            var count = vectors.Length / dims;
            for (var i = 0; i < count; i++)
            {
                if (!fileFilter(i / chunksPerFile))
                {
                    continue;
                }

                var score = TensorPrimitives.Dot(query, vectors.AsSpan(i * dims, dims));
                if (heap.Count < K)
                {
                    heap.Enqueue(i, score);
                }
                else if (heap.TryPeek(out _, out var lowest) && score > lowest)
                {
                    heap.DequeueEnqueue(i, score);
                }
            }

            return [.. heap.UnorderedItems.Select(e => e.Element)];
        }

        /// <summary>Four-syllable pseudo-words (70⁴ of them): never an English stop word, stemmed alike on both sides.</summary>
        private static string Word(int n)
        {
            const string consonants = "bdfgklmnprstvz";
            const string vowels = "aeiou";
            Span<char> word = stackalloc char[8];
            for (var s = 0; s < 4; s++)
            {
                var syllable = n % (consonants.Length * vowels.Length);
                n /= consonants.Length * vowels.Length;
                word[2 * s] = consonants[syllable / vowels.Length];
                word[(2 * s) + 1] = vowels[syllable % vowels.Length];
            }

            return new string(word);
        }

        private static string Topic(int cluster, int t) => Word((cluster * TopicWords) + t);

        /// <summary>Log-uniform rank (Zipf with s ≈ 1) among the background words, which follow every topic word.</summary>
        private static string Background(Random random) =>
            Word(BackgroundStart + (int)(Math.Exp(random.NextDouble() * Math.Log(BackgroundWords)) - 1));
    }

    /// <summary>The synthetic model's generator: the benchmark's query texts map to their query vectors; nothing else is embedded.</summary>
    private sealed class QueryLookupGenerator(SyntheticCorpus corpus) : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(v => corpus.QueryVectors.TryGetValue(v, out var vector)
                ? new Embedding<float>(vector)
                : throw new InvalidOperationException($"The synthetic model only embeds the benchmark's queries, not '{v}'."))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    // ------------------------------------------------------------------------------------------
    // PostgreSQL database per run, helpers, report.
    // ------------------------------------------------------------------------------------------

    private static async Task<(string Name, string ConnectionString)> CreateDatabaseAsync(string server)
    {
        var name = "quiver_bench_" + Guid.NewGuid().ToString("N");
        await PostgresExecuteAsync(server, $"CREATE DATABASE {name}");
        return (name, new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
    }

    private static async Task DropDatabaseAsync(string server, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await PostgresExecuteAsync(server, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    private static async Task PostgresExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, CommandTimeout = 0 }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> PostgresScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble());


    private static string F(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Rows in first-set order, one cell per backend.</summary>
    private sealed class Report
    {
        private readonly List<(string Section, string Metric)> _order = [];
        private readonly Dictionary<(string Section, string Metric), Dictionary<string, string>> _cells = [];

        public void Set(string section, string metric, string column, string value)
        {
            if (!_cells.TryGetValue((section, metric), out var row))
            {
                _order.Add((section, metric));
                _cells[(section, metric)] = row = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            row[column] = value;
        }

        public void SetBoth(string section, string metric, string sqlite, string postgres)
        {
            Set(section, metric, Column(Backend.Sqlite), sqlite);
            Set(section, metric, Column(Backend.Postgres), postgres);
        }

        public void Print()
        {
            Console.WriteLine("| | SQLite | PostgreSQL |");
            Console.WriteLine("|---|---:|---:|");
            foreach (var key in _order)
            {
                var row = _cells[key];
                Console.WriteLine($"| {key.Metric} | {row.GetValueOrDefault(Column(Backend.Sqlite), "")} | {row.GetValueOrDefault(Column(Backend.Postgres), "")} |");
            }
        }
    }

}
