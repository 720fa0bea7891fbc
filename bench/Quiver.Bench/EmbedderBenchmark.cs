using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Quiver.Core.Embeddings;
using Quiver.Core.Search.Indexes;

using static Quiver.Bench.BenchSupport;

namespace Quiver.Bench;

/// <summary>
/// The local models on their own, without a host: query embedding latency per model and for the
/// ensemble, document throughput, and the exact scan at the ensemble's 768 dimensions.
/// <code>
/// embedder [--data DIR] [--threads N] [--docs N]
/// </code>
/// </summary>
internal static class EmbedderBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var data = Option(args, "data") ?? "/work/shared/datasets/scifact";
        var threads = Option(args, "threads", 0);
        var docCount = Option(args, "docs", 640);
        var ct = CancellationToken.None;

        EmbeddingModel Load(LocalModelSpec spec) =>
            new(spec.Info, new OnnxEmbeddingGenerator(spec, () => threads, NullLogger<OnnxEmbeddingGenerator>.Instance));
        var arctic = Load(LocalModels.ArcticXs);
        var miniLm = Load(LocalModels.MiniLmL6V2);
        var ensemble = EmbeddingModel.Concatenation(LocalModels.Ensemble, [arctic, miniLm]);

        var queries = File.ReadLines(Path.Combine(data, "queries-test.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!)
            .ToList();
        Console.WriteLine($"{queries.Count} SciFact queries; intra-op threads {(threads > 0 ? threads : Environment.ProcessorCount)}; {Environment.ProcessorCount} cores");
        Console.WriteLine("| what | p50 ms | p95 ms |");
        Console.WriteLine("|---|---:|---:|");
        await TimeAsync("query: arctic-embed-xs", q => arctic.EmbedQueryAsync(q, ct), queries);
        await TimeAsync("query: all-MiniLM-L6-v2", q => miniLm.EmbedQueryAsync(q, ct), queries);
        await TimeAsync("query: ensemble (parts side by side)", q => ensemble.EmbedQueryAsync(q, ct), queries);
        await TimeAsync("query: both models one after the other", async q =>
        {
            await arctic.EmbedQueryAsync(q, ct);
            await miniLm.EmbedQueryAsync(q, ct);
        }, queries);

        // Exact top-400 scans (the candidates a 100-result search takes) over random vectors.
        var random = new Random(1);
        foreach (var (rows, dims) in new[] { (6_450, 384), (12_540, 384), (12_540, 768) })
        {
            var vectors = new float[rows * dims];
            for (var i = 0; i < vectors.Length; i++)
            {
                vectors[i] = (float)random.NextDouble() - 0.5f;
            }

            var query = vectors.AsSpan(0, dims).ToArray();
            foreach (var (label, index) in new[] { ("one thread", new ExactVectorIndex(dims, 1)), ("default", new ExactVectorIndex(dims)) })
            {
                index.AddFile(1, [.. Enumerable.Range(0, rows).Select(i => (long)i)], vectors);
                await TimeAsync($"exact top-400, {rows:N0} × {dims}, {label}", _ => Task.FromResult(index.Search(query, 400)), queries);
            }
        }

        var docs = File.ReadLines(Path.Combine(data, "corpus.jsonl"))
            .Take(docCount)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => e.GetProperty("title").GetString() + "\n" + e.GetProperty("text").GetString())
            .ToList();
        Console.WriteLine();
        Console.WriteLine($"Documents ({docs.Count} SciFact abstracts, whole, batches of 64):");
        foreach (var model in new[] { arctic, miniLm, ensemble })
        {
            await model.EmbedDocumentsAsync(docs[..Math.Min(64, docs.Count)], ct);
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < docs.Count; i += 64)
            {
                await model.EmbedDocumentsAsync(docs[i..Math.Min(docs.Count, i + 64)], ct);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {model.Info.Id}: {docs.Count / Stopwatch.GetElapsedTime(started).TotalSeconds:F1} docs/s"));
        }

        return 0;
    }

    private static async Task TimeAsync<T>(string name, Func<string, Task<T>> run, IReadOnlyList<string> inputs) =>
        await TimeAsync(name, async q => { await run(q); }, inputs);

    private static async Task TimeAsync(string name, Func<string, Task> run, IReadOnlyList<string> inputs)
    {
        foreach (var input in inputs.Take(20))
        {
            await run(input);
        }

        var latencies = new List<double>(inputs.Count);
        foreach (var input in inputs)
        {
            var started = Stopwatch.GetTimestamp();
            await run(input);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {Percentile(latencies, 0.50):F2} | {Percentile(latencies, 0.95):F2} |"));
    }
}
