using Microsoft.Extensions.Logging.Abstractions;
using Quiver.Core.Search.Indexes;

namespace Quiver.Tests.Search;

/// <summary>
/// The background HNSW graph of a store: built from the exact rows, follows changes in order, is saved beside the
/// database, and on the next start is loaded and reconciled with the rows (or rebuilt when its files disagree).
/// </summary>
public sealed class HnswStoreGraphTests : IDisposable
{
    private const int Dim = 32;
    private const string Store = "vs_graphtest";

    private readonly string _dir = Directory.CreateTempSubdirectory("quiver-graph-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Builds_from_the_rows_then_applies_changes_in_order()
    {
        var (keys, vectors) = Rows(first: 1, count: 2000, seed: 1);
        await using var graph = Start(keys, vectors, version: 5);
        await WaitForVersionAsync(graph, 5);
        Assert.False(graph.LoadedFromSavedFile);

        // Rows find themselves first.
        AssertFindThemselves(graph, keys, vectors, step: 20);

        // Version 6 removes keys 1..100 and adds 5001..5050.
        var (added, addedVectors) = Rows(first: 5001, count: 50, seed: 2);
        graph.Enqueue(6, [.. keys[..100]], added, addedVectors);
        await WaitForVersionAsync(graph, 6);

        var all = graph.Search(vectors.AsSpan(10 * Dim, Dim), 2000, null)!.Select(h => h.Key).ToHashSet();
        Assert.DoesNotContain(keys[10], all);
        AssertFindThemselves(graph, added, addedVectors, step: 1);
        Assert.False(graph.NeedsRebuild);

        // Removing a tenth of what it was built with (here 200 of 2,000) asks for a rebuild.
        graph.Enqueue(7, [.. keys[100..199]], [], []);
        await WaitForVersionAsync(graph, 7);
        Assert.False(graph.NeedsRebuild);
        graph.Enqueue(8, [keys[199]], [], []);
        await WaitForVersionAsync(graph, 8);
        Assert.True(graph.NeedsRebuild);
    }

    [Fact]
    public async Task A_filter_is_applied_inside_the_walk()
    {
        var (keys, vectors) = Rows(first: 1, count: 3000, seed: 3);
        await using var graph = Start(keys, vectors, version: 1);
        await WaitForVersionAsync(graph, 1);

        // Only every 10th key is allowed: k allowed hits come back, nothing else.
        var hits = graph.Search(vectors.AsSpan(0, Dim), 50, key => key % 10 == 0)!;
        Assert.Equal(50, hits.Length);
        Assert.All(hits, h => Assert.Equal(0, h.Key % 10));
    }

    [Fact]
    public async Task Saved_graph_is_loaded_and_reconciled_with_rows_that_changed_meanwhile()
    {
        var (keys, vectors) = Rows(first: 1, count: 2000, seed: 4);
        await using (var graph = Start(keys, vectors, version: 1))
        {
            await WaitForVersionAsync(graph, 1);
        }

        // Disposing saved it.
        Assert.True(File.Exists(HnswStoreGraph.GraphPath(_dir, Store)));
        Assert.True(File.Exists(HnswStoreGraph.GraphPath(_dir, Store) + ".keys"));

        // While "the server was down", keys 1..100 were deleted and 9001..9100 added.
        var (added, addedVectors) = Rows(first: 9001, count: 100, seed: 5);
        long[] nowKeys = [.. keys[100..], .. added];
        float[] nowVectors = [.. vectors.AsSpan(100 * Dim), .. addedVectors];

        await using var reloaded = Start(nowKeys, nowVectors, version: 2);
        await WaitForVersionAsync(reloaded, 2);
        Assert.True(reloaded.LoadedFromSavedFile);

        // Removed keys never come back, from any query.
        var removed = keys[..100].ToHashSet();
        for (var row = 0; row < nowKeys.Length; row += 25)
        {
            Assert.DoesNotContain(reloaded.Search(nowVectors.AsSpan(row * Dim, Dim), 20, null)!, h => removed.Contains(h.Key));
        }

        // Kept and added rows find themselves. HNSW is approximate and USearch builds on several threads, so a
        // rare row may be missed on one run (CI saw 1 of 80): recall is asserted, not perfection.
        AssertFindThemselves(reloaded, nowKeys, nowVectors, step: 25);
        AssertFindThemselves(reloaded, added, addedVectors, step: 1);
    }

    [Fact]
    public async Task A_saved_graph_whose_store_lost_a_tenth_of_its_rows_is_rebuilt_not_patched()
    {
        var (keys, vectors) = Rows(first: 1, count: 2000, seed: 8);
        await using (var graph = Start(keys, vectors, version: 1))
        {
            await WaitForVersionAsync(graph, 1);
        }

        await using var rebuilt = Start(keys[200..], vectors[(200 * Dim)..], version: 2);
        await WaitForVersionAsync(rebuilt, 2);
        Assert.False(rebuilt.LoadedFromSavedFile);
        AssertFindThemselves(rebuilt, keys[200..], vectors[(200 * Dim)..], step: 50);
        Assert.DoesNotContain(rebuilt.Search(vectors.AsSpan(0, Dim), 50, null)!, h => h.Key <= 200);
    }

    [Fact]
    public async Task A_key_list_that_does_not_match_the_graph_makes_it_rebuild()
    {
        var (keys, vectors) = Rows(first: 1, count: 1500, seed: 6);
        await using (var graph = Start(keys, vectors, version: 1))
        {
            await WaitForVersionAsync(graph, 1);
        }

        // Simulate a crash between the two renames: the key list belongs to another graph.
        var keysPath = HnswStoreGraph.GraphPath(_dir, Store) + ".keys";
        var bytes = File.ReadAllBytes(keysPath);
        bytes[^1] ^= 0x7F;
        File.WriteAllBytes(keysPath, bytes);

        await using var rebuilt = Start(keys, vectors, version: 1);
        await WaitForVersionAsync(rebuilt, 1);
        Assert.False(rebuilt.LoadedFromSavedFile);
        AssertFindThemselves(rebuilt, keys, vectors, step: 15);
    }

    [Fact]
    public async Task Delete_removes_the_saved_files()
    {
        var (keys, vectors) = Rows(first: 1, count: 500, seed: 7);
        var graph = Start(keys, vectors, version: 1);
        await WaitForVersionAsync(graph, 1);
        await graph.DisposeAsync();
        Assert.True(File.Exists(HnswStoreGraph.GraphPath(_dir, Store)));

        var again = Start(keys, vectors, version: 1);
        await WaitForVersionAsync(again, 1);
        await again.DeleteAsync();
        Assert.Null(again.Search(vectors.AsSpan(0, Dim), 1, null)); // a search racing the deletion falls back, never touches freed memory
        Assert.False(File.Exists(HnswStoreGraph.GraphPath(_dir, Store)));
        Assert.False(File.Exists(HnswStoreGraph.GraphPath(_dir, Store) + ".keys"));
    }

    /// <summary>At least 95 % of the sampled rows (every <paramref name="step"/>-th) are their own nearest hit.</summary>
    private static void AssertFindThemselves(HnswStoreGraph graph, long[] keys, float[] vectors, int step)
    {
        int sampled = 0, found = 0;
        for (var row = 0; row < keys.Length; row += step, sampled++)
        {
            if (graph.Search(vectors.AsSpan(row * Dim, Dim), 10, null)![0].Key == keys[row])
            {
                found++;
            }
        }

        Assert.True(found >= sampled * 0.95, $"{found} of {sampled} sampled rows found themselves first.");
    }

    private HnswStoreGraph Start(long[] keys, float[] vectors, long version) =>
        HnswStoreGraph.Start(Store, Dim, _dir, keys, vectors, version, TimeSpan.FromHours(1), TimeProvider.System, NullLogger.Instance);

    private static (long[] Keys, float[] Vectors) Rows(long first, int count, int seed) =>
        ([.. Enumerable.Range(0, count).Select(i => first + i)], VectorTestData.Clustered(count, Dim, 20, seed));

    private static async Task WaitForVersionAsync(HnswStoreGraph graph, long version)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (graph.AppliedVersion != version)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The graph never reached version {version} (at {graph.AppliedVersion}).");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
