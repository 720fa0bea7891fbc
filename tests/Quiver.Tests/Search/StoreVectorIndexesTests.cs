using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Quiver.Core.Search;
using Quiver.Core.Search.Indexes;

namespace Quiver.Tests.Search;

/// <summary>
/// The in-memory indexes as the PostgreSQL backend runs them (no graphs, a memory budget): a store is loaded once and
/// then answered from memory while its chunk version stands, reloaded when the version moves, and past the budget the
/// least recently searched store is dropped and loaded again by its next search — with the same answers.
/// </summary>
public sealed class StoreVectorIndexesTests
{
    private const int Dims = 8;

    [Fact]
    public async Task Searches_are_served_from_memory_until_the_version_moves_and_the_budget_evicts_the_least_recent_store()
    {
        var rows = new FakeRows();
        rows.Put("vs_a", "file_a", Enumerable.Range(0, 100).Select(i => (1_000L + i, Vector(i))).ToArray());
        rows.Put("vs_b", "file_b", Enumerable.Range(0, 100).Select(i => (2_000L + i, Vector(i + 7))).ToArray());
        var clock = new FakeTimeProvider();
        // One store of 100 vectors takes 100 × (8 floats + one key) = 4,000 bytes: the budget holds one, not two.
        await using var indexes = new StoreVectorIndexes(rows, new SearchOptions { HnswMinChunks = 0 }, null, clock, NullLogger.Instance, maxResidentBytes: 6_000);
        var query = Vector(42);

        var first = await SearchAsync(indexes, rows, "vs_a", query);
        Assert.Equal(1_042L, first[0].Key);
        Assert.Equal(1, indexes.Loads);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(first, await SearchAsync(indexes, rows, "vs_a", query));
        Assert.Equal(1, indexes.Loads); // same version: no rows read

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2_035L, (await SearchAsync(indexes, rows, "vs_b", query))[0].Key);
        Assert.Equal(2, indexes.Loads);
        Assert.Equal(1, indexes.ResidentStores); // vs_a, searched least recently, made room

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(first, await SearchAsync(indexes, rows, "vs_a", query));
        Assert.Equal(3, indexes.Loads);

        // A change (new version): the file's new rows replace its old ones on the next search.
        rows.Put("vs_a", "file_a", [(5_000L, query)]);
        var changed = await SearchAsync(indexes, rows, "vs_a", query);
        Assert.Equal(4, indexes.Loads);
        Assert.Equal([5_000L], changed.Select(h => h.Key));
        Assert.Equal(1f, changed[0].Score, 1e-5f);
    }

    private static async Task<SearchHit[]> SearchAsync(StoreVectorIndexes indexes, FakeRows rows, string storeId, float[] query)
    {
        await using var reader = await rows.OpenAsync(CancellationToken.None);
        return [.. (await indexes.SearchAsync(reader, storeId, Dims, [query], 5, null, CancellationToken.None))[0]];
    }

    private static float[] Vector(int seed)
    {
        var vector = new float[Dims];
        for (var i = 0; i < Dims; i++)
        {
            vector[i] = MathF.Sin((seed + 1) * (i + 1) * 0.37f);
        }

        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(vector);
        System.Numerics.Tensors.TensorPrimitives.Divide(vector, norm, vector);
        return vector;
    }

    /// <summary>Stores of one file each, with a version bumped on every change, as the database keeps them.</summary>
    private sealed class FakeRows : IVectorRowSource, IVectorRowReader
    {
        private readonly Dictionary<string, (long Version, string FileId, (long Key, float[] Vector)[] Rows)> _stores = [];

        public void Put(string storeId, string fileId, (long Key, float[] Vector)[] rows) =>
            _stores[storeId] = (_stores.TryGetValue(storeId, out var old) ? old.Version + 1 : 1, fileId, rows);

        public Task<IVectorRowReader> OpenAsync(CancellationToken ct) => Task.FromResult<IVectorRowReader>(this);

        public bool IsStorageFailure(Exception exception) => false;

        public Task<long?> ReadChunksVersionAsync(string storeId, CancellationToken ct) =>
            Task.FromResult(_stores.TryGetValue(storeId, out var store) ? store.Version : (long?)null);

        public Task<IReadOnlyDictionary<string, FileChunkSignature>> ReadFileSignaturesAsync(string storeId, CancellationToken ct)
        {
            var store = _stores[storeId];
            return Task.FromResult<IReadOnlyDictionary<string, FileChunkSignature>>(
                new Dictionary<string, FileChunkSignature> { [store.FileId] = new(store.Rows.Length, store.Rows.Max(r => r.Key)) });
        }

        public Task ReadFileVectorsAsync(string storeId, string fileId, int dimensions, List<long> keys, List<float> vectors, CancellationToken ct)
        {
            foreach (var (key, vector) in _stores[storeId].Rows.OrderBy(r => r.Key))
            {
                keys.Add(key);
                vectors.AddRange(vector);
            }

            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
