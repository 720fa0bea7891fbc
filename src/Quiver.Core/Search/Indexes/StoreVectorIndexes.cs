using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Quiver.Core.Search.Indexes;

/// <summary>
/// The in-memory dense indexes of a backend that keeps vectors in rows and searches them in process: one
/// <see cref="ExactVectorIndex"/> per store, loaded from the rows and refreshed file by file when the store's
/// chunk version moves, and for stores of at least <see cref="SearchOptions.HnswMinChunks"/> chunks an
/// <see cref="HnswStoreGraph"/> (saved under <c>graphDirectory</c>) fed with the same changes. Dense search uses
/// the graph once it has caught up, unless a filter leaves fewer chunks than that threshold (an exact scan of
/// those is as fast and exact). The exact index stays the source of truth either way.
/// </summary>
/// <remarks>
/// Owns the cache and the graphs' lifecycle only; every read of the database goes through
/// <see cref="IVectorRowSource"/>, so the backend's file holds its SQL and nothing else. A backend that keeps its
/// large stores elsewhere (PostgreSQL: pgvector's HNSW) passes no <paramref name="graphDirectory"/> and
/// <see cref="SearchOptions.HnswMinChunks"/> 0, and a <paramref name="maxResidentBytes"/> budget: past it the
/// least recently searched stores are dropped (and reloaded by their next search), so a process serving many
/// stores holds the vectors of those in use, not of all.
/// </remarks>
internal sealed partial class StoreVectorIndexes(
    IVectorRowSource rows, SearchOptions options, string? graphDirectory, TimeProvider time, ILogger logger,
    long maxResidentBytes = long.MaxValue) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, StoreIndex> _indexes = new(StringComparer.Ordinal);
    private int _pruned;
    private long _loads;

    /// <summary>Refreshes that read rows from the database (a first load, or a change seen); tests check a search was served from memory.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>The stores whose vectors are in memory now (tests and diagnostics).</summary>
    public int ResidentStores => _indexes.Count;

    /// <summary>Drops a store that no longer exists (its saved graph too, if it has one).</summary>
    public void Forget(string storeId)
    {
        if (_indexes.TryRemove(storeId, out var gone) && gone.Graph is { } graph)
        {
            _ = Task.Run(graph.DeleteAsync, CancellationToken.None);
        }
    }

    /// <summary>A store's graph and the version its exact index holds (tests and diagnostics).</summary>
    public (HnswStoreGraph? Graph, long Version) GraphStateOf(string storeId) =>
        _indexes.TryGetValue(storeId, out var index) ? (index.Graph, index.Version) : (null, -1);

    /// <summary>
    /// Top <paramref name="k"/> chunks by cosine similarity for each query, only from <paramref name="allowedFiles"/>
    /// when given; <paramref name="reader"/> is the caller's open session, used to bring the index up to date first.
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyList<SearchHit>>> SearchAsync(
        IVectorRowReader reader, string storeId, int dimensions, IReadOnlyList<float[]> queries, int k,
        IReadOnlySet<string>? allowedFiles, CancellationToken ct)
    {
        var index = await GetIndexAsync(reader, storeId, dimensions, ct);
        if (TryGraphSearch(index, queries, k, allowedFiles) is { } approximate)
        {
            return approximate;
        }

        Predicate<int>? allowed = null;
        if (allowedFiles is not null)
        {
            var ordinals = index.OrdinalsOf(allowedFiles);
            allowed = ordinals.Contains;
        }

        var flat = new float[queries.Count * dimensions];
        for (var i = 0; i < queries.Count; i++)
        {
            queries[i].AsSpan().CopyTo(flat.AsSpan(i * dimensions));
        }

        return index.Vectors.SearchBatch(flat, k, allowed);
    }

    /// <summary>
    /// The HNSW answer when the store has a graph that reflects exactly the rows the exact index holds, and the
    /// search covers at least <see cref="SearchOptions.HnswMinChunks"/> chunks; otherwise null (search exactly).
    /// A filter is applied inside the graph walk, which keeps expanding until it has k allowed hits.
    /// </summary>
    private SearchHit[][]? TryGraphSearch(StoreIndex index, IReadOnlyList<float[]> queries, int k, IReadOnlySet<string>? allowedFiles)
    {
        var graph = index.Graph;
        if (graph is null || graph.AppliedVersion != index.Version || index.Vectors.Count < options.HnswMinChunks)
        {
            return null;
        }

        Predicate<long>? allowed = null;
        if (allowedFiles is not null)
        {
            var keys = index.KeysOf(allowedFiles);
            if (keys.Count < options.HnswMinChunks)
            {
                return null;
            }

            allowed = keys.Contains;
        }

        var results = new SearchHit[queries.Count][];
        for (var i = 0; i < queries.Count; i++)
        {
            if (TensorPrimitives.Norm(queries[i]) == 0f)
            {
                return null; // cosine is undefined for it; the exact index scores it 0 against everything
            }

            if (graph.Search(queries[i], k, allowed) is not { } hits)
            {
                return null; // replaced or dropped meanwhile
            }

            results[i] = hits;
        }

        return results;
    }

    /// <summary>The store's index, brought up to date with the database first when its chunks changed.</summary>
    private async Task<StoreIndex> GetIndexAsync(IVectorRowReader reader, string storeId, int dimensions, CancellationToken ct)
    {
        if (graphDirectory is not null && Interlocked.Exchange(ref _pruned, 1) == 0)
        {
            _ = Task.Run(() => PruneOrphanGraphsAsync(CancellationToken.None), CancellationToken.None);
        }

        var index = _indexes.GetOrAdd(storeId, _ => new StoreIndex(dimensions));
        index.LastUsed = time.GetTimestamp();
        var version = await reader.ReadChunksVersionAsync(storeId, ct);
        if (version is null)
        {
            Forget(storeId);
            return index;
        }

        // Also take the lock when the graph asks for a rebuild: it learns that only after applying removals in the
        // background, possibly after the store's last change.
        if (index.Version == version && index.Graph is not { NeedsRebuild: true })
        {
            return index;
        }

        await index.RefreshLock.WaitAsync(ct);
        try
        {
            // Re-read under the lock: another search may have refreshed meanwhile.
            version = await reader.ReadChunksVersionAsync(storeId, ct);
            if (version is { } current)
            {
                if (index.Version != current)
                {
                    await RefreshAsync(reader, storeId, index, current, ct);
                    index.Version = current;
                    Interlocked.Increment(ref _loads);
                    EvictBeyondBudget(index);
                }

                UpdateGraphLifecycle(storeId, index, current);
            }
        }
        finally
        {
            index.RefreshLock.Release();
        }

        return index;
    }

    /// <summary>
    /// Drops the least recently searched stores (never <paramref name="keep"/>, never one with a graph) until the
    /// vectors held fit <c>maxResidentBytes</c>. Runs after a load, the only time the total grows.
    /// </summary>
    private void EvictBeyondBudget(StoreIndex keep)
    {
        if (maxResidentBytes == long.MaxValue)
        {
            return;
        }

        var resident = _indexes.ToArray();
        var total = resident.Sum(entry => entry.Value.ResidentBytes);
        foreach (var (storeId, index) in resident.Where(e => e.Value != keep && e.Value.Graph is null).OrderBy(e => e.Value.LastUsed))
        {
            if (total <= maxResidentBytes)
            {
                break;
            }

            if (_indexes.TryRemove(new KeyValuePair<string, StoreIndex>(storeId, index)))
            {
                total -= index.ResidentBytes;
                LogEvicted(logger, storeId, index.Vectors.Count);
            }
        }
    }

    /// <summary>
    /// Starts a graph when the store reaches the threshold, and drops it (with its files) when the store falls
    /// below half of it, so a store hovering around the threshold does not rebuild over and over; replaces it with
    /// a fresh build once many of its vectors were removed. Under the refresh lock.
    /// </summary>
    private void UpdateGraphLifecycle(string storeId, StoreIndex index, long version)
    {
        var count = index.Vectors.Count;
        var graph = index.Graph;
        if (graph is not null && (options.HnswMinChunks <= 0 || count < options.HnswMinChunks / 2))
        {
            index.Graph = null;
            _ = Task.Run(graph.DeleteAsync, CancellationToken.None); // may still be building; searches need not wait
            return;
        }

        var rebuild = graph is { NeedsRebuild: true };
        if ((graph is null && options.HnswMinChunks > 0 && count >= options.HnswMinChunks) || rebuild)
        {
            if (rebuild)
            {
                _ = Task.Run(graph!.AbandonAsync, CancellationToken.None);
            }

            // Until the new graph catches up, searches are exact.
            var (keys, vectors) = index.Vectors.Rows();
            index.Graph = HnswStoreGraph.Start(
                storeId, index.Vectors.Dimensions, graphDirectory ?? throw new InvalidOperationException("HNSW graphs need a graph directory."), keys, vectors, version,
                TimeSpan.FromSeconds(options.HnswSaveIntervalSeconds), time, logger, loadSaved: !rebuild);
        }
    }

    /// <summary>Removes saved graphs whose store no longer exists (deleted while no graph was loaded).</summary>
    private async Task PruneOrphanGraphsAsync(CancellationToken ct)
    {
        try
        {
            if (graphDirectory is null || !Directory.Exists(graphDirectory))
            {
                return;
            }

            await using var reader = await rows.OpenAsync(ct);
            foreach (var path in Directory.EnumerateFiles(graphDirectory, "*.hnsw"))
            {
                var storeId = Path.GetFileNameWithoutExtension(path);
                if (await reader.ReadChunksVersionAsync(storeId, ct) is null && !_indexes.ContainsKey(storeId))
                {
                    File.Delete(path);
                    File.Delete(path + ".keys");
                    LogPruned(logger, storeId);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException || rows.IsStorageFailure(e))
        {
            LogPruneFailed(logger, e);
        }
    }

    /// <summary>Saves the graphs' unsaved changes (host shutdown).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var index in _indexes.Values)
        {
            if (index.Graph is { } graph)
            {
                await graph.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Reloads only the files whose chunk set changed (by count and highest chunk id) and drops removed files;
    /// the same change goes to the store's graph, if it has one, as the step to <paramref name="version"/>.
    /// </summary>
    private static async Task RefreshAsync(IVectorRowReader reader, string storeId, StoreIndex index, long version, CancellationToken ct)
    {
        var current = await reader.ReadFileSignaturesAsync(storeId, ct);
        var removedKeys = new List<long>();
        var addedKeys = new List<long>();
        var addedVectors = new List<float>();
        foreach (var fileId in index.Signatures.Keys.ToList())
        {
            if (!current.ContainsKey(fileId))
            {
                index.Vectors.RemoveFile(index.OrdinalOf(fileId));
                index.Signatures.Remove(fileId);
                lock (index.FileKeys)
                {
                    index.FileKeys.Remove(fileId, out var fileKeys);
                    removedKeys.AddRange(fileKeys ?? []);
                }
            }
        }

        var dims = index.Vectors.Dimensions;
        foreach (var (fileId, signature) in current)
        {
            if (index.Signatures.TryGetValue(fileId, out var known) && known == signature)
            {
                continue;
            }

            var keys = new List<long>((int)signature.Count);
            var vectors = new List<float>((int)signature.Count * dims);
            await reader.ReadFileVectorsAsync(storeId, fileId, dims, keys, vectors, ct);
            index.Vectors.AddFile(index.OrdinalOf(fileId), CollectionsMarshal.AsSpan(keys), CollectionsMarshal.AsSpan(vectors));
            index.Signatures[fileId] = signature;
            lock (index.FileKeys)
            {
                if (index.FileKeys.Remove(fileId, out var replaced))
                {
                    removedKeys.AddRange(replaced);
                }

                index.FileKeys[fileId] = [.. keys];
            }
            addedKeys.AddRange(keys);
            addedVectors.AddRange(vectors);
        }

        index.Graph?.Enqueue(version, removedKeys, [.. addedKeys], [.. addedVectors]);
    }

    /// <summary>One store's cached vectors and the bookkeeping to keep them current.</summary>
    private sealed class StoreIndex(int dimensions)
    {
        private readonly FileOrdinals _files = new();
        private long _version = -1;
        private long _lastUsed;

        public ExactVectorIndex Vectors { get; } = new(dimensions);

        public SemaphoreSlim RefreshLock { get; } = new(1, 1);

        /// <summary>Per file: chunk count and highest chunk id when loaded (ids only grow, so any change shows).</summary>
        public Dictionary<string, FileChunkSignature> Signatures { get; } = new(StringComparer.Ordinal);

        /// <summary>Per file: its chunk keys in the index (the graph needs them to remove a file; filters to allow one).</summary>
        public Dictionary<string, long[]> FileKeys { get; } = new(StringComparer.Ordinal);

        /// <summary>When the store was last searched (<see cref="TimeProvider.GetTimestamp"/>), for eviction.</summary>
        public long LastUsed
        {
            get => Volatile.Read(ref _lastUsed);
            set => Volatile.Write(ref _lastUsed, value);
        }

        /// <summary>What its vectors and keys take in memory, roughly (4 bytes a float, 8 a key).</summary>
        public long ResidentBytes => (long)Vectors.Count * (Vectors.Dimensions * sizeof(float) + sizeof(long));

        /// <summary>The HNSW graph following this store, for stores at or above the threshold.</summary>
        public HnswStoreGraph? Graph { get; set; }

        /// <summary>The chunk version the rows reflect (-1 before the first load); read without the lock.</summary>
        public long Version
        {
            get => Volatile.Read(ref _version);
            set => Volatile.Write(ref _version, value);
        }

        /// <summary>Keys of the chunks of these files (the refresh lock is not held: a concurrent refresh may be swapping a file).</summary>
        public HashSet<long> KeysOf(IReadOnlySet<string> fileIds)
        {
            var keys = new HashSet<long>();
            lock (FileKeys)
            {
                foreach (var fileId in fileIds)
                {
                    if (FileKeys.TryGetValue(fileId, out var fileKeys))
                    {
                        keys.UnionWith(fileKeys);
                    }
                }
            }

            return keys;
        }

        public int OrdinalOf(string fileId) => _files.Of(fileId);

        public HashSet<int> OrdinalsOf(IReadOnlySet<string> fileIds) => _files.Of(fileIds);
    }

    [LoggerMessage(EventId = 3112, Level = LogLevel.Debug, Message = "Dropped the in-memory vectors of store {StoreId} ({Count} chunks) to stay within the cache budget")]
    private static partial void LogEvicted(ILogger logger, string storeId, int count);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "Removed the saved HNSW graph of deleted store {StoreId}")]
    private static partial void LogPruned(ILogger logger, string storeId);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "Could not prune saved HNSW graphs of deleted stores")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}

/// <summary>A file's chunk set as loaded: how many chunks and the highest chunk id (ids only grow, so any change shows).</summary>
internal readonly record struct FileChunkSignature(long Count, long MaxId);

/// <summary>Where <see cref="StoreVectorIndexes"/> reads rows from: a backend opens one reader per search.</summary>
internal interface IVectorRowSource
{
    /// <summary>Opens a reader on its own connection (background work such as pruning saved graphs).</summary>
    Task<IVectorRowReader> OpenAsync(CancellationToken ct);

    /// <summary>Whether an exception is the database failing (logged and survived), not a bug.</summary>
    bool IsStorageFailure(Exception exception);
}

/// <summary>The reads an in-memory index needs from one open database session.</summary>
internal interface IVectorRowReader : IAsyncDisposable
{
    /// <summary>The store's chunk version (bumped on every chunk insert/delete), or null when the store is gone.</summary>
    Task<long?> ReadChunksVersionAsync(string storeId, CancellationToken ct);

    /// <summary>Each file of the store that has chunks, with its signature.</summary>
    Task<IReadOnlyDictionary<string, FileChunkSignature>> ReadFileSignaturesAsync(string storeId, CancellationToken ct);

    /// <summary>Appends the file's chunk keys (ascending) and their vectors of <paramref name="dimensions"/> floats; rows of another size are skipped.</summary>
    Task ReadFileVectorsAsync(string storeId, string fileId, int dimensions, List<long> keys, List<float> vectors, CancellationToken ct);
}
