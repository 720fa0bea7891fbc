using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Numerics.Tensors;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quiver.Core.Search;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>
/// Search over the embedded database: dense retrieval from an in-memory <see cref="ExactVectorIndex"/>
/// per store, loaded from the chunk BLOBs and refreshed file by file when the store's
/// <c>chunks_version</c> (bumped by triggers on every chunk insert/delete) moves; lexical retrieval
/// with FTS5 <c>bm25()</c>. Filters arrive as allowed file ids and are applied inside both
/// retrievals, before their top-k cut.
/// Stores of at least <see cref="SearchOptions.HnswMinChunks"/> chunks also get an <see cref="HnswStoreGraph"/>
/// (saved under <c>indexes/</c> beside the database) fed with the same changes; dense search uses it once it
/// has caught up, unless a filter leaves fewer chunks than that threshold (an exact scan of those is as fast
/// and exact). The exact index stays the source of truth either way.
/// </summary>
internal sealed partial class SqliteChunkSearchStore(
    SqliteDatabase database, IOptions<SearchOptions> options, TimeProvider time, ILogger<SqliteChunkSearchStore> logger)
    : IChunkSearchStore, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, StoreIndex> _indexes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SearchableFiles> _files = new(StringComparer.Ordinal);
    private readonly SearchOptions _options = options.Value;
    // The HNSW graphs are saved in indexes/ beside the database file.
    private readonly string _graphDirectory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(database.Path))!, "indexes");
    private int _pruned;

    /// <summary>A store's graph and the version its exact index holds (tests and diagnostics).</summary>
    internal (HnswStoreGraph? Graph, long Version) GraphStateOf(string storeId) =>
        _indexes.TryGetValue(storeId, out var index) ? (index.Graph, index.Version) : (null, -1);

    /// <inheritdoc/>
    /// <remarks>
    /// Kept per store and reloaded only when the store's <c>files_version</c> (bumped by triggers on every
    /// change to its file rows) moves: listing and parsing 10,000 files took ~105 ms per filtered search.
    /// The version is read before the rows, so a change racing the load leaves an older version beside
    /// newer rows, and the next search reloads.
    /// </remarks>
    public async Task<IReadOnlyList<SearchableFile>> GetSearchableFilesAsync(string storeId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var version = await connection.Command("SELECT files_version FROM vector_stores WHERE id = @store")
            .With("@store", storeId).ExecuteScalarAsync(ct) as long?;
        if (version is null)
        {
            _files.TryRemove(storeId, out _);
            return [];
        }

        if (_files.TryGetValue(storeId, out var cached) && cached.Version == version)
        {
            return cached.Files;
        }

        await using var command = connection.Command("""
                SELECT vf.file_id, f.filename, vf.attributes FROM vector_store_files vf JOIN files f ON f.id = vf.file_id
                WHERE vf.vector_store_id = @store AND vf.status IN ('completed', 'in_progress')
                """).With("@store", storeId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var files = new List<SearchableFile>();
        while (await reader.ReadAsync(ct))
        {
            files.Add(new SearchableFile(reader.GetString(0), reader.GetString(1), AttributeMap.FromJson(reader.GetString(2))));
        }

        _files[storeId] = new SearchableFiles(version.Value, files);
        return files;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<IReadOnlyList<SearchHit>>> DenseSearchAsync(
        string storeId, int dimensions, IReadOnlyList<float[]> queries, int k, IReadOnlySet<string>? allowedFiles, CancellationToken ct)
    {
        var index = await GetIndexAsync(storeId, dimensions, ct);
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
        if (graph is null || graph.AppliedVersion != index.Version || index.Vectors.Count < _options.HnswMinChunks)
        {
            return null;
        }

        Predicate<long>? allowed = null;
        if (allowedFiles is not null)
        {
            var keys = index.KeysOf(allowedFiles);
            if (keys.Count < _options.HnswMinChunks)
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

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SearchHit>> LexicalSearchAsync(string storeId, string query, int k, IReadOnlySet<string>? allowedFiles, CancellationToken ct)
    {
        var match = Fts5QueryBuilder.Build(query);
        if (match is null)
        {
            return [];
        }

        // The store is a token of the index (migration 4), so FTS5 only ranks this store's chunks;
        // its column weight is 0, leaving BM25 to the text. A filter still joins to the chunk's file.
        await using var connection = await database.OpenAsync(ct);
        var sql = allowedFiles is null
            ? """
              SELECT rowid, bm25(chunks_fts, 1.0, 0.0) FROM chunks_fts
              WHERE chunks_fts MATCH @match ORDER BY bm25(chunks_fts, 1.0, 0.0) LIMIT @k
              """
            : """
              SELECT c.id, bm25(chunks_fts, 1.0, 0.0) FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
              WHERE chunks_fts MATCH @match AND c.file_id IN (SELECT value FROM json_each(@allowed))
              ORDER BY bm25(chunks_fts, 1.0, 0.0) LIMIT @k
              """;
        await using var command = connection.Command(sql).With("@match", StoreScopedMatch(storeId, match)).With("@k", k);
        if (allowedFiles is not null)
        {
            command.With("@allowed", JsonSerializer.Serialize(allowedFiles.ToArray(), SearchJsonContext.Default.StringArray));
        }

        var hits = new List<SearchHit>(k);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            // bm25() is lower-is-better and negative; negated it is a positive relevance score.
            hits.Add(new SearchHit(reader.GetInt64(0), (float)-reader.GetDouble(1)));
        }

        return hits;
    }

    /// <summary>
    /// <c>store : "s&lt;hex id&gt;0" AND text : (…)</c>; the tag is computed exactly as the index's content view does
    /// (<c>'s' || hex(vector_store_id) || '0'</c>: SQLite's hex() of the UTF-8 bytes, upper case).
    /// </summary>
    private static string StoreScopedMatch(string storeId, string match) =>
        $"store : \"s{Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(storeId))}0\" AND text : ({match})";

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<long, ChunkContent>> GetChunksAsync(string storeId, IReadOnlyList<long> keys, CancellationToken ct)
    {
        var result = new Dictionary<long, ChunkContent>(keys.Count);
        if (keys.Count == 0)
        {
            return result;
        }

        // The unary + keeps SQLite from driving the lookup through the store's index (a scan of every
        // chunk of the store, ~20 ms at 100k chunks) instead of by primary key (the 10-100 ids asked for).
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command("""
                SELECT c.id, c.file_id, f.filename, vf.attributes, c.text FROM chunks c
                JOIN vector_store_files vf ON vf.vector_store_id = c.vector_store_id AND vf.file_id = c.file_id
                JOIN files f ON f.id = c.file_id
                WHERE c.id IN (SELECT value FROM json_each(@ids)) AND +c.vector_store_id = @store
                """).With("@store", storeId).With("@ids", JsonSerializer.Serialize(keys.ToArray(), SearchJsonContext.Default.Int64Array));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[reader.GetInt64(0)] = new ChunkContent(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), AttributeMap.FromJson(reader.GetString(3)), reader.GetString(4));
        }

        return result;
    }

    /// <summary>The store's index, brought up to date with the database first when its chunks changed.</summary>
    private async Task<StoreIndex> GetIndexAsync(string storeId, int dimensions, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _pruned, 1) == 0)
        {
            _ = Task.Run(() => PruneOrphanGraphsAsync(CancellationToken.None), CancellationToken.None);
        }

        var index = _indexes.GetOrAdd(storeId, _ => new StoreIndex(dimensions));
        await using var connection = await database.OpenAsync(ct);
        var version = await ReadVersionAsync(connection, storeId, ct);
        if (version is null)
        {
            if (_indexes.TryRemove(storeId, out var gone) && gone.Graph is { } graph)
            {
                _ = Task.Run(graph.DeleteAsync, CancellationToken.None);
            }

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
            version = await ReadVersionAsync(connection, storeId, ct);
            if (version is { } current)
            {
                if (index.Version != current)
                {
                    await RefreshAsync(connection, storeId, index, current, ct);
                    index.Version = current;
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
    /// Starts a graph when the store reaches the threshold, and drops it (with its files) when the store falls
    /// below half of it, so a store hovering around the threshold does not rebuild over and over; replaces it with
    /// a fresh build once many of its vectors were removed. Under the refresh lock.
    /// </summary>
    private void UpdateGraphLifecycle(string storeId, StoreIndex index, long version)
    {
        var count = index.Vectors.Count;
        var graph = index.Graph;
        if (graph is not null && (_options.HnswMinChunks <= 0 || count < _options.HnswMinChunks / 2))
        {
            index.Graph = null;
            _ = Task.Run(graph.DeleteAsync, CancellationToken.None); // may still be building; searches need not wait
            return;
        }

        var rebuild = graph is { NeedsRebuild: true };
        if ((graph is null && _options.HnswMinChunks > 0 && count >= _options.HnswMinChunks) || rebuild)
        {
            if (rebuild)
            {
                _ = Task.Run(graph!.AbandonAsync, CancellationToken.None);
            }

            // Until the new graph catches up, searches are exact.
            var (keys, vectors) = index.Vectors.Rows();
            index.Graph = HnswStoreGraph.Start(
                storeId, index.Vectors.Dimensions, _graphDirectory, keys, vectors, version,
                TimeSpan.FromSeconds(_options.HnswSaveIntervalSeconds), time, logger, loadSaved: !rebuild);
        }
    }

    /// <summary>Removes saved graphs whose store no longer exists (deleted while no graph was loaded).</summary>
    private async Task PruneOrphanGraphsAsync(CancellationToken ct)
    {
        try
        {
            if (!Directory.Exists(_graphDirectory))
            {
                return;
            }

            await using var connection = await database.OpenAsync(ct);
            foreach (var path in Directory.EnumerateFiles(_graphDirectory, "*.hnsw"))
            {
                var storeId = Path.GetFileNameWithoutExtension(path);
                if (await ReadVersionAsync(connection, storeId, ct) is null && !_indexes.ContainsKey(storeId))
                {
                    File.Delete(path);
                    File.Delete(path + ".keys");
                    LogPruned(logger, storeId);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SqliteException)
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

    private static async Task<long?> ReadVersionAsync(SqliteConnection connection, string storeId, CancellationToken ct) =>
        await connection.Command("SELECT chunks_version FROM vector_stores WHERE id = @store").With("@store", storeId).ExecuteScalarAsync(ct) as long?;

    /// <summary>
    /// Reloads only the files whose chunk set changed (by count and highest chunk id) and drops removed files;
    /// the same change goes to the store's graph, if it has one, as the step to <paramref name="version"/>.
    /// </summary>
    private static async Task RefreshAsync(SqliteConnection connection, string storeId, StoreIndex index, long version, CancellationToken ct)
    {
        var current = new Dictionary<string, (long Count, long MaxId)>(StringComparer.Ordinal);
        await using (var reader = await connection.Command(
                "SELECT file_id, COUNT(*), MAX(id) FROM chunks WHERE vector_store_id = @store GROUP BY file_id").With("@store", storeId).ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                current[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
            }
        }

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
            await using (var reader = await connection.Command(
                    "SELECT id, embedding FROM chunks WHERE vector_store_id = @store AND file_id = @file ORDER BY id")
                .With("@store", storeId).With("@file", fileId).ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var blob = (byte[])reader.GetValue(1);
                    if (blob.Length != dims * sizeof(float))
                    {
                        continue; // a vector of another size cannot belong to this store's model
                    }

                    keys.Add(reader.GetInt64(0));
                    vectors.AddRange(MemoryMarshal.Cast<byte, float>(blob));
                }
            }

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
        private readonly ConcurrentDictionary<string, int> _ordinals = new(StringComparer.Ordinal);
        private int _nextOrdinal;
        private long _version = -1;

        public ExactVectorIndex Vectors { get; } = new(dimensions);

        public SemaphoreSlim RefreshLock { get; } = new(1, 1);

        /// <summary>Per file: chunk count and highest chunk id when loaded (ids only grow, so any change shows).</summary>
        public Dictionary<string, (long Count, long MaxId)> Signatures { get; } = new(StringComparer.Ordinal);

        /// <summary>Per file: its chunk keys in the index (the graph needs them to remove a file; filters to allow one).</summary>
        public Dictionary<string, long[]> FileKeys { get; } = new(StringComparer.Ordinal);

        /// <summary>The HNSW graph following this store, for stores at or above the threshold.</summary>
        public HnswStoreGraph? Graph { get; set; }

        /// <summary>The <c>chunks_version</c> the rows reflect (-1 before the first load); read without the lock.</summary>
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

        public int OrdinalOf(string fileId) => _ordinals.GetOrAdd(fileId, _ => Interlocked.Increment(ref _nextOrdinal));

        public HashSet<int> OrdinalsOf(IReadOnlySet<string> fileIds)
        {
            var ordinals = new HashSet<int>();
            foreach (var fileId in fileIds)
            {
                if (_ordinals.TryGetValue(fileId, out var ordinal))
                {
                    ordinals.Add(ordinal);
                }
            }

            return ordinals;
        }
    }

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "Removed the saved HNSW graph of deleted store {StoreId}")]
    private static partial void LogPruned(ILogger logger, string storeId);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "Could not prune saved HNSW graphs of deleted stores")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);

    /// <summary>A store's searchable files as of its <c>files_version</c>.</summary>
    private sealed record SearchableFiles(long Version, IReadOnlyList<SearchableFile> Files);
}
