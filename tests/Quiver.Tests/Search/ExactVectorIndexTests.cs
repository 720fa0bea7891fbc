using Quiver.Core.Search;
using Quiver.Core.Search.Indexes;

namespace Quiver.Tests.Search;

public sealed class ExactVectorIndexTests
{
    private const int Dim = 32;

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 10)]
    [InlineData(2, 1)]
    [InlineData(1, 5000)]
    public void Search_equals_brute_force(int threads, int k)
    {
        var (index, data, keys) = Build(rows: 3000, files: 30, threads);

        foreach (var seed in new[] { 1, 2, 3 })
        {
            var query = VectorTestData.Clustered(1, Dim, 1, seed + 100, noise: 1f);
            var expected = VectorTestData.BruteForce(data, keys, Dim, query, k);
            var actual = index.Search(query, k);

            Assert.Equal(expected.Select(e => e.Key), actual.Select(a => a.Key));
            Assert.All(expected.Zip(actual), p => Assert.Equal(p.First.Score, p.Second.Score, 1e-4));
        }
    }

    [Fact]
    public void Batch_equals_single_queries()
    {
        var (index, _, _) = Build(rows: 2000, files: 10, threads: 2);
        var queries = VectorTestData.Clustered(5, Dim, 2, 77, noise: 1f);

        var batch = index.SearchBatch(queries, 7);

        for (var q = 0; q < 5; q++)
        {
            Assert.Equal(index.Search(queries.AsSpan(q * Dim, Dim), 7), batch[q]);
        }
    }

    [Theory]
    [InlineData(10, 3)] // 3 allowed files × 100 rows ≫ k: exactly k
    [InlineData(500, 3)] // fewer matching rows than k: all of them
    public void Filter_applies_before_the_cut_and_returns_min_of_matches_and_k(int k, int allowedFiles)
    {
        var (index, data, keys) = Build(rows: 3000, files: 30, threads: 2);
        var query = VectorTestData.Clustered(1, Dim, 1, 9, noise: 1f);

        var hits = index.Search(query, k, file => file < allowedFiles);

        var expected = VectorTestData.BruteForce(data, keys, Dim, query, k, row => FileOf(row) < allowedFiles);
        Assert.Equal(Math.Min(k, allowedFiles * 100), hits.Length);
        Assert.Equal(expected.Select(e => e.Key), hits.Select(h => h.Key));
    }

    [Fact]
    public void Filter_that_allows_nothing_returns_empty()
    {
        var (index, _, _) = Build(rows: 100, files: 2, threads: 1);
        Assert.Empty(index.Search(new float[Dim], 10, _ => false));
        Assert.Empty(new ExactVectorIndex(Dim).Search(new float[Dim], 10));
    }

    [Fact]
    public void Remove_and_replace_a_file()
    {
        var (index, _, _) = Build(rows: 300, files: 3, threads: 1);
        Assert.True(index.RemoveFile(1));
        Assert.False(index.RemoveFile(1));
        Assert.Equal(200, index.Count);
        Assert.DoesNotContain(index.Search(UnitX(), 300), h => h.Key is >= 100 and < 200);

        // Re-adding file 0 replaces its 100 rows with 2 new ones.
        var v = new float[2 * Dim];
        v[0] = 1;
        v[Dim + 1] = 1;
        index.AddFile(0, [7000, 7001], v);
        Assert.Equal(102, index.Count);
        var hits = index.Search(UnitX(), 300);
        Assert.Equal(102, hits.Length);
        Assert.Equal(new SearchHit(7000, 1f), hits[0]);
        Assert.DoesNotContain(hits, h => h.Key < 100);
    }

    [Fact]
    public void Rows_are_normalised_so_scores_are_cosines()
    {
        var index = new ExactVectorIndex(2);
        index.AddFile(0, [1, 2, 3], [10, 0, 3, 4, 0, 0]);
        var hits = index.Search([2, 0], 3);
        Assert.Equal([new SearchHit(1, 1f), new SearchHit(2, 0.6f), new SearchHit(3, 0f)], hits);
    }

    [Fact]
    public void Wrong_lengths_are_rejected()
    {
        var index = new ExactVectorIndex(4);
        Assert.Throws<ArgumentException>(() => index.AddFile(0, [1], new float[3]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[3], 1));
    }

    [Fact]
    public async Task Searches_run_concurrently_with_updates()
    {
        var (index, _, _) = Build(rows: 2000, files: 20, threads: 2);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var writer = Task.Run(() =>
        {
            var v = VectorTestData.Clustered(100, Dim, 3, 4);
            var n = 0;
            while (!cts.IsCancellationRequested)
            {
                // Keys are unique per file, so duplicate keys in a result would mean torn snapshots.
                var file = 1000 + (n % 5);
                index.AddFile(file, Enumerable.Range(0, 100).Select(i => (file * 1000L) + i).ToArray(), v);
                index.RemoveFile(1000 + ((n + 2) % 5));
                n++;
            }
        }, TestContext.Current.CancellationToken);

        var query = new float[Dim];
        query[0] = 1;
        while (!cts.IsCancellationRequested)
        {
            var hits = index.Search(query, 50, file => file % 2 == 0);
            Assert.Equal(50, hits.Length);
            Assert.Equal(hits.Length, hits.Select(h => h.Key).Distinct().Count());
        }

        await writer;
    }

    private static float[] UnitX()
    {
        var v = new float[Dim];
        v[0] = 1;
        return v;
    }

    // File f owns rows [f*perFile, (f+1)*perFile); keys equal row numbers.
    private static int FileOf(int row) => row / 100;

    private static (ExactVectorIndex Index, float[] Data, long[] Keys) Build(int rows, int files, int threads)
    {
        var data = VectorTestData.Clustered(rows, Dim, 8, 42);
        var keys = Enumerable.Range(0, rows).Select(i => (long)i).ToArray();
        var index = new ExactVectorIndex(Dim, threads, parallelThreshold: 64);
        var perFile = rows / files;
        for (var f = 0; f < files; f++)
        {
            index.AddFile(f, keys.AsSpan(f * perFile, perFile), data.AsSpan(f * perFile * Dim, perFile * Dim));
        }

        return (index, data, keys);
    }
}
