using Quiver.Core.Search;
using Quiver.Core.Search.Indexes;

namespace Quiver.Tests.Search;

public sealed class HnswVectorIndexTests(ITestOutputHelper output) : IDisposable
{
    private const int Dim = 64;
    private const int Rows = 6000;

    private readonly string _dir = Directory.CreateTempSubdirectory("quiver-hnsw-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Recall_at_10_is_at_least_0_95_against_exact_search()
    {
        var (hnsw, exact, data) = Build(Rows, Dim);
        using var _ = hnsw;
        var queries = VectorTestData.QueriesNear(data, Dim, 100, 7);

        var recall = Recall(hnsw, exact, queries, Dim, 10, null);

        output.WriteLine($"recall@10 = {recall:F3}");
        Assert.True(recall >= 0.95, $"recall@10 was {recall:F3}");
    }

    [Fact]
    public void Filtered_recall_is_high_and_only_allowed_keys_come_back()
    {
        var (hnsw, exact, data) = Build(Rows, Dim);
        using var _ = hnsw;
        var queries = VectorTestData.QueriesNear(data, Dim, 50, 8);

        var recall = Recall(hnsw, exact, queries, Dim, 10, key => key % 10 == 3);

        output.WriteLine($"filtered recall@10 = {recall:F3}");
        Assert.True(recall >= 0.95, $"filtered recall@10 was {recall:F3}");
    }

    [Theory]
    [InlineData(10, 1000)] // plenty of matches: exactly k
    [InlineData(10, 4)] // fewer matches than k: all of them
    [InlineData(50, 37)]
    public void Filtered_search_returns_min_of_matches_and_k(int k, int matching)
    {
        var (hnsw, _, _) = Build(Rows, Dim);
        using var _ = hnsw;
        var stride = Rows / matching;
        var query = VectorTestData.Clustered(1, Dim, 1, 9);

        var hits = hnsw.Search(query, k, key => key % stride == 0 && key / stride < matching);

        // With fewer matches than k (and ef) the filtered walk never prunes, so it returns every match reachable from
        // the entry point. HNSW does not guarantee every node is reachable: a (parallel, hence non-deterministic) build
        // of these 6000 rows leaves 0–6 of them unreachable (measured over repeated builds), so an unlucky match can be
        // missed. With plenty of matches the result is exactly k.
        var expected = Math.Min(k, matching);
        var tolerance = matching < k ? Math.Max(1, matching / 10) : 0;
        Assert.InRange(hits.Length, expected - tolerance, expected);
        Assert.All(hits, h => Assert.Equal(0, h.Key % stride));
        Assert.Equal(hits.Length, hits.Select(h => h.Key).Distinct().Count());
    }

    [Fact]
    public void Scores_are_cosines_and_add_replaces_and_remove_deletes()
    {
        using var index = new HnswVectorIndex(2);
        index.Add(1, [1, 0]);
        index.Add(2, [3, 4]);
        index.Add(3, [0, 1]);
        var hits = index.Search([2, 0], 3);
        Assert.Equal([1L, 2L, 3L], hits.Select(h => h.Key));
        Assert.Equal([1f, 0.6f, 0f], hits.Select(h => h.Score), (a, b) => Math.Abs(a - b) < 1e-5);

        index.Add(1, [0, 1]); // replace
        Assert.Equal(3, index.Count);
        Assert.Equal(2L, index.Search([1, 0], 1)[0].Key);

        Assert.True(index.Remove(2));
        Assert.False(index.Remove(2));
        Assert.False(index.Contains(2));
        Assert.Equal(2, index.Count);
        Assert.DoesNotContain(index.Search([1, 0], 3), h => h.Key == 2);
    }

    [Fact]
    public void Save_then_load_or_view_gives_the_same_results()
    {
        var (hnsw, _, _) = Build(2000, Dim);
        var path = Path.Combine(_dir, "store.usearch");
        var query = VectorTestData.Clustered(1, Dim, 1, 10);
        SearchHit[] before;
        using (hnsw)
        {
            hnsw.ExpansionSearch = 100;
            before = hnsw.Search(query, 10);
            hnsw.Save(path);
        }

        // ef is a search-time setting that USearch does not store in the file, so it is passed on open; the same graph
        // searched with the same ef must then give exactly the same hits.
        using var loaded = HnswVectorIndex.Load(path, expansionSearch: 100);
        using var view = HnswVectorIndex.Load(path, view: true, expansionSearch: 100);
        Assert.Equal(100, loaded.ExpansionSearch);
        Assert.Equal(2000, loaded.Count);
        Assert.Equal(Dim, view.Dimensions);
        Assert.True(view.IsReadOnly);
        Assert.Equal(before, loaded.Search(query, 10));
        Assert.Equal(before, view.Search(query, 10));
        Assert.Throws<InvalidOperationException>(() => view.Add(99_999, new float[Dim]));
        loaded.Add(99_999, query);
        Assert.Equal(99_999L, loaded.Search(query, 1)[0].Key);
    }

    [Fact]
    public void A_throwing_filter_surfaces_as_an_exception()
    {
        var (hnsw, _, _) = Build(500, Dim);
        using var _ = hnsw;
        var ex = Assert.Throws<InvalidOperationException>(() => hnsw.Search(new float[Dim], 5, _ => throw new FormatException("boom")));
        Assert.IsType<FormatException>(ex.InnerException);
    }

    [Fact]
    public async Task Searches_run_concurrently_with_adds_and_growth()
    {
        using var index = new HnswVectorIndex(Dim);
        var data = VectorTestData.Clustered(4000, Dim, 20, 11);
        index.AddRange(Enumerable.Range(0, 100).Select(i => (long)i).ToArray(), data.AsMemory(0, 100 * Dim), TestContext.Current.CancellationToken);
        var writer = Task.Run(() =>
        {
            for (var i = 100; i < 4000; i++)
            {
                index.Add(i, data.AsSpan(i * Dim, Dim));
            }
        }, TestContext.Current.CancellationToken);

        var searches = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            while (!writer.IsCompleted)
            {
                var hits = index.Search(data.AsSpan(t * Dim, Dim), 10);
                Assert.Equal(10, hits.Length);
            }
        }, TestContext.Current.CancellationToken)).ToArray();

        await Task.WhenAll([writer, .. searches]);
        Assert.Equal(4000, index.Count);
    }

    private static double Recall(HnswVectorIndex hnsw, ExactVectorIndex exact, float[] queries, int dim, int k, Predicate<long>? allowedKey)
    {
        var found = 0;
        var total = 0;
        for (var q = 0; q < queries.Length / dim; q++)
        {
            var query = queries.AsSpan(q * dim, dim);
            // The exact index here holds one row per file with file ordinal = key, so the key filter maps directly.
            var truth = exact.Search(query, k, allowedKey is null ? null : file => allowedKey(file)).Select(h => h.Key).ToHashSet();
            var hits = hnsw.Search(query, k, allowedKey);
            Assert.All(hits, h => Assert.True(allowedKey?.Invoke(h.Key) ?? true));
            found += hits.Count(h => truth.Contains(h.Key));
            total += truth.Count;
        }

        return (double)found / total;
    }

    private static (HnswVectorIndex Hnsw, ExactVectorIndex Exact, float[] Data) Build(int rows, int dim)
    {
        var data = VectorTestData.Clustered(rows, dim, 40, 42);
        var keys = Enumerable.Range(0, rows).Select(i => (long)i).ToArray();
        var hnsw = new HnswVectorIndex(dim);
        hnsw.AddRange(keys, data);
        var exact = new ExactVectorIndex(dim, 1);
        for (var row = 0; row < rows; row++)
        {
            // One row per "file" whose ordinal is the key, so key predicates double as file predicates.
            exact.AddFile(row, keys.AsSpan(row, 1), data.AsSpan(row * dim, dim));
        }

        return (hnsw, exact, data);
    }
}
