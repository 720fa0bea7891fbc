using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Quiver.Core.Search.Indexes;

using static Quiver.Bench.BenchSupport;

namespace Quiver.Bench;

/// <summary>
/// Dense-search latency and recall of the embedded backend's two paths on synthetic clustered vectors: the exact
/// in-memory index and the store's HNSW graph (<see cref="HnswStoreGraph"/>, the class search uses, at its default
/// M and ef), per store size, so the switch-over size can be read off, and with a filter keeping 10% of chunks.
/// <code>
/// vectors [--sizes 5000,10000,20000,50000,100000] [--dims 384] [--queries 200] [--engines 100000]
/// </code>
/// Data: 1,000 Gaussian clusters (centre + noise σ=0.5 per unit-variance axis), 10 chunks per file; queries are
/// fresh points from random clusters. The filter keeps files whose ordinal is divisible by 10, applied inside the
/// exact scan and inside the graph walk (a key set, as search builds it). Recall@k is against the exact top-k.
/// At the <c>--engines</c> sizes (none: <c>--engines 0</c>) two more tables measure the engines themselves: the exact
/// index with 1 and 2 threads, one query at a time and in batches of 16 (<see cref="ExactVectorIndex.SearchBatch"/>);
/// and the graph's saved USearch file opened as <see cref="HnswVectorIndex"/>, loaded and memory-mapped, searched at
/// ef 32, 64 and 128 with recall@10.
/// </summary>
internal static class VectorIndexBenchmark
{
    private const int Clusters = 1_000;
    private const int ChunksPerFile = 10;

    public static int Run(string[] args)
    {
        var options = args.Chunk(2).ToDictionary(p => p[0].TrimStart('-'), p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);
        var sizes = options.GetValueOrDefault("sizes", "5000,10000,20000,50000,100000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var dims = int.Parse(options.GetValueOrDefault("dims", "384"), CultureInfo.InvariantCulture);
        var queryCount = int.Parse(options.GetValueOrDefault("queries", "200"), CultureInfo.InvariantCulture);
        var engineSizes = options.GetValueOrDefault("engines", "100000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToHashSet();
        var engineLines = new List<string>();

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{dims}-d clustered vectors, {Environment.ProcessorCount} cores, {queryCount} queries per row, HNSW M={HnswVectorIndex.DefaultConnectivity} ef_add={HnswVectorIndex.DefaultExpansionAdd} ef={HnswVectorIndex.DefaultExpansionSearch}"));
        Console.WriteLine();
        Console.WriteLine("| chunks | k | filter | exact p50 ms | exact p99 ms | HNSW p50 ms | HNSW p99 ms | HNSW recall@k | graph build s | graph save ms | graph load ms |");
        Console.WriteLine("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var n in sizes)
        {
            RunSize(n, dims, queryCount, engineSizes.Contains(n) ? engineLines : null);
        }

        foreach (var line in engineLines)
        {
            Console.WriteLine(line);
        }

        return 0;
    }

    private static void RunSize(int n, int dims, int queryCount, List<string>? engineLines)
    {
        var random = new Random(42);
        var centres = new float[Clusters * dims];
        for (var i = 0; i < centres.Length; i++)
        {
            centres[i] = (float)Gaussian(random);
        }

        float[] Point()
        {
            var c = random.Next(Clusters);
            var v = new float[dims];
            for (var d = 0; d < dims; d++)
            {
                v[d] = centres[(c * dims) + d] + (0.5f * (float)Gaussian(random));
            }

            return v;
        }

        var exact = new ExactVectorIndex(dims);
        for (var file = 0; file * ChunksPerFile < n; file++)
        {
            var rows = Math.Min(ChunksPerFile, n - (file * ChunksPerFile));
            var keys = new long[rows];
            var vectors = new float[rows * dims];
            for (var r = 0; r < rows; r++)
            {
                keys[r] = ((long)file * ChunksPerFile) + r;
                Point().CopyTo(vectors, r * dims);
            }

            exact.AddFile(file, keys, vectors);
        }

        var directory = Directory.CreateTempSubdirectory("quiver-vectors-bench-").FullName;
        try
        {
            var (allKeys, allVectors) = exact.Rows();
            var started = Stopwatch.GetTimestamp();
            var graph = HnswStoreGraph.Start("vs_bench", dims, directory, allKeys, allVectors, 1, TimeSpan.FromHours(1), TimeProvider.System, NullLogger.Instance);
            while (graph.AppliedVersion != 1)
            {
                Thread.Sleep(5);
            }

            var build = Stopwatch.GetElapsedTime(started).TotalSeconds;
            started = Stopwatch.GetTimestamp();
            graph.DisposeAsync().AsTask().GetAwaiter().GetResult(); // saves
            var save = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            started = Stopwatch.GetTimestamp();
            graph = HnswStoreGraph.Start("vs_bench", dims, directory, allKeys, allVectors, 2, TimeSpan.FromHours(1), TimeProvider.System, NullLogger.Instance);
            while (graph.AppliedVersion != 2)
            {
                Thread.Sleep(1);
            }

            var load = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!graph.LoadedFromSavedFile)
            {
                throw new InvalidOperationException("The saved graph was not loaded.");
            }

            var queries = Enumerable.Range(0, queryCount).Select(_ => Point()).ToList();
            var allowedKeys = new HashSet<long>(allKeys.ToArray().Where(k => k / ChunksPerFile % 10 == 0));
            Predicate<int> allowedFile = file => file % 10 == 0;

            // Warm for a while, not a few calls, so the exact scan runs at its final JIT tier (10 calls left it
            // interpreted-slow at the first sizes).
            var warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
            for (var w = 0; Stopwatch.GetTimestamp() < warmUntil; w++)
            {
                exact.Search(queries[w % queries.Count], 10, w % 2 == 0 ? allowedFile : null);
            }

            foreach (var k in new[] { 10, 100 })
            {
                foreach (var filtered in new[] { false, true })
                {
                    var exactLatencies = new List<double>(queryCount);
                    var graphLatencies = new List<double>(queryCount);
                    double recall = 0;
                    for (var w = 0; w < 10; w++)
                    {
                        exact.Search(queries[w], k, filtered ? allowedFile : null);
                        graph.Search(queries[w], k, filtered ? allowedKeys.Contains : null);
                    }

                    foreach (var q in queries)
                    {
                        var t = Stopwatch.GetTimestamp();
                        var truth = exact.Search(q, k, filtered ? allowedFile : null);
                        exactLatencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                        t = Stopwatch.GetTimestamp();
                        var approximate = graph.Search(q, k, filtered ? allowedKeys.Contains : null)!;
                        graphLatencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                        var expected = truth.Select(h => h.Key).ToHashSet();
                        recall += approximate.Count(h => expected.Contains(h.Key)) / (double)truth.Length;
                    }

                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {n:N0} | {k} | {(filtered ? "10% of files" : "none")} | {Percentile(exactLatencies, 0.50):F2} | {Percentile(exactLatencies, 0.99):F2} | {Percentile(graphLatencies, 0.50):F2} | {Percentile(graphLatencies, 0.99):F2} | {recall / queries.Count:F3} | {build:F1} | {save:F0} | {load:F0} |"));
                }
            }

            graph.AbandonAsync().GetAwaiter().GetResult();
            if (engineLines is not null)
            {
                // The graph file saved above is still on disk.
                MeasureEngines(n, dims, exact, HnswStoreGraph.GraphPath(directory, "vs_bench"), queries, engineLines);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The exact index by thread count and batching, and the saved graph as a plain USearch index by ef.</summary>
    private static void MeasureEngines(int n, int dims, ExactVectorIndex rows, string graphFile, List<float[]> queries, List<string> lines)
    {
        var (keys, vectors) = rows.Rows();
        var flatQueries = queries.SelectMany(q => q).ToArray();
        Predicate<int> allowedFile = file => file % 10 == 0;
        lines.Add("");
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"Exact index at {n:N0} chunks, k = 10 (p50 ms per query; a batch's time is divided by its 16 queries):"));
        lines.Add("");
        lines.Add("| threads | one at a time | batches of 16 | one at a time, 10% of files |");
        lines.Add("|---:|---:|---:|---:|");
        foreach (var threads in new[] { 1, 2 })
        {
            var index = new ExactVectorIndex(dims, threads);
            for (var file = 0; file * ChunksPerFile < n; file++)
            {
                var start = file * ChunksPerFile;
                var count = Math.Min(ChunksPerFile, n - start);
                index.AddFile(file, keys.Span.Slice(start, count), vectors.Span.Slice(start * dims, count * dims));
            }

            // Warm for a while, not a few calls, so the scan runs at its final JIT tier.
            var warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
            for (var w = 0; Stopwatch.GetTimestamp() < warmUntil; w++)
            {
                index.Search(queries[w % queries.Count], 10);
                index.Search(queries[w % queries.Count], 10, allowedFile);
                index.SearchBatch(flatQueries.AsSpan(0, 16 * dims), 10);
            }

            var single = PerQueryP50(queries.Count, 1, q => index.Search(queries[q], 10));
            var batch = PerQueryP50(queries.Count, 16, q => index.SearchBatch(flatQueries.AsSpan(q * dims, 16 * dims), 10));
            var filtered = PerQueryP50(queries.Count, 1, q => index.Search(queries[q], 10, allowedFile));
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"| {threads} | {single:F2} | {batch:F2} | {filtered:F2} |"));
        }

        var started = Stopwatch.GetTimestamp();
        using var loaded = HnswVectorIndex.Load(graphFile);
        var load = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        started = Stopwatch.GetTimestamp();
        using (HnswVectorIndex.Load(graphFile, view: true))
        {
            var view = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            lines.Add("");
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"USearch index at {n:N0} chunks ({new FileInfo(graphFile).Length / 1e6:F0} MB file): load {load:F0} ms, memory-mapped view {view:F0} ms; k = 10:"));
        }

        lines.Add("");
        lines.Add("| ef | filter | recall@10 | p50 ms | p99 ms |");
        lines.Add("|---:|---|---:|---:|---:|");
        var allowedKeys = new HashSet<long>(keys.ToArray().Where(k => k / ChunksPerFile % 10 == 0));
        foreach (var ef in new[] { 32, 64, 128 })
        {
            loaded.ExpansionSearch = ef;
            foreach (var filteredRun in new[] { false, true })
            {
                Predicate<long>? allowedKey = filteredRun ? allowedKeys.Contains : null;
                var latencies = new List<double>(queries.Count);
                double recall = 0;
                foreach (var q in queries)
                {
                    var truth = rows.Search(q, 10, filteredRun ? allowedFile : null).Select(h => h.Key).ToHashSet();
                    var t = Stopwatch.GetTimestamp();
                    var found = loaded.Search(q, 10, allowedKey);
                    latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    recall += found.Count(h => truth.Contains(h.Key)) / (double)truth.Count;
                }

                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {ef} | {(filteredRun ? "10% of files" : "none")} | {recall / queries.Count:F3} | {Percentile(latencies, 0.50):F2} | {Percentile(latencies, 0.99):F2} |"));
            }
        }
    }

    /// <summary>The median time per query of <paramref name="search"/> called on each group of <paramref name="group"/> queries.</summary>
    private static double PerQueryP50(int queries, int group, Action<int> search)
    {
        var times = new List<double>(queries / group);
        for (var q = 0; q + group <= queries; q += group)
        {
            var started = Stopwatch.GetTimestamp();
            search(q);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds / group);
        }

        return Percentile(times, 0.50);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble());
}
