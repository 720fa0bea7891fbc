using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Quiver.Core.Search;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>
/// Search over the embedded database: dense retrieval from an in-memory <see cref="ExactVectorIndex"/>
/// per store, loaded from the chunk BLOBs and refreshed file by file when the store's
/// <c>chunks_version</c> (bumped by triggers on every chunk insert/delete) moves; lexical retrieval
/// with FTS5 <c>bm25()</c>. Filters arrive as allowed file ids and are applied inside both
/// retrievals, before their top-k cut.
/// </summary>
internal sealed class SqliteChunkSearchStore(SqliteDatabase database) : IChunkSearchStore
{
    private readonly ConcurrentDictionary<string, StoreIndex> _indexes = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SearchableFile>> GetSearchableFilesAsync(string storeId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
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

        return files;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<IReadOnlyList<SearchHit>>> DenseSearchAsync(
        string storeId, int dimensions, IReadOnlyList<float[]> queries, int k, IReadOnlySet<string>? allowedFiles, CancellationToken ct)
    {
        var index = await GetIndexAsync(storeId, dimensions, ct);
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

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SearchHit>> LexicalSearchAsync(string storeId, string query, int k, IReadOnlySet<string>? allowedFiles, CancellationToken ct)
    {
        var match = Fts5QueryBuilder.Build(query);
        if (match is null)
        {
            return [];
        }

        await using var connection = await database.OpenAsync(ct);
        var sql = """
            SELECT c.id, bm25(chunks_fts) FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
            WHERE chunks_fts MATCH @match AND c.vector_store_id = @store
            """ + (allowedFiles is null ? "" : " AND c.file_id IN (SELECT value FROM json_each(@allowed))")
            + " ORDER BY bm25(chunks_fts) LIMIT @k";
        await using var command = connection.Command(sql).With("@match", match).With("@store", storeId).With("@k", k);
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

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<long, ChunkContent>> GetChunksAsync(string storeId, IReadOnlyList<long> keys, CancellationToken ct)
    {
        var result = new Dictionary<long, ChunkContent>(keys.Count);
        if (keys.Count == 0)
        {
            return result;
        }

        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command("""
                SELECT c.id, c.file_id, f.filename, vf.attributes, c.text FROM chunks c
                JOIN vector_store_files vf ON vf.vector_store_id = c.vector_store_id AND vf.file_id = c.file_id
                JOIN files f ON f.id = c.file_id
                WHERE c.vector_store_id = @store AND c.id IN (SELECT value FROM json_each(@ids))
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
        var index = _indexes.GetOrAdd(storeId, _ => new StoreIndex(dimensions));
        await using var connection = await database.OpenAsync(ct);
        var version = await ReadVersionAsync(connection, storeId, ct);
        if (version is null)
        {
            _indexes.TryRemove(storeId, out _);
            return index;
        }

        if (index.Version == version)
        {
            return index;
        }

        await index.RefreshLock.WaitAsync(ct);
        try
        {
            // Re-read under the lock: another search may have refreshed meanwhile.
            version = await ReadVersionAsync(connection, storeId, ct);
            if (index.Version != version)
            {
                await RefreshAsync(connection, storeId, index, ct);
                index.Version = version;
            }
        }
        finally
        {
            index.RefreshLock.Release();
        }

        return index;
    }

    private static async Task<long?> ReadVersionAsync(SqliteConnection connection, string storeId, CancellationToken ct) =>
        await connection.Command("SELECT chunks_version FROM vector_stores WHERE id = @store").With("@store", storeId).ExecuteScalarAsync(ct) as long?;

    /// <summary>Reloads only the files whose chunk set changed (by count and highest chunk id) and drops removed files.</summary>
    private static async Task RefreshAsync(SqliteConnection connection, string storeId, StoreIndex index, CancellationToken ct)
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

        foreach (var (fileId, signature) in index.Signatures.ToList())
        {
            if (!current.ContainsKey(fileId))
            {
                index.Vectors.RemoveFile(index.OrdinalOf(fileId));
                index.Signatures.Remove(fileId);
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
        }
    }

    /// <summary>One store's cached vectors and the bookkeeping to keep them current.</summary>
    private sealed class StoreIndex(int dimensions)
    {
        private readonly ConcurrentDictionary<string, int> _ordinals = new(StringComparer.Ordinal);
        private int _nextOrdinal;

        public ExactVectorIndex Vectors { get; } = new(dimensions);

        public SemaphoreSlim RefreshLock { get; } = new(1, 1);

        /// <summary>Per file: chunk count and highest chunk id when loaded (ids only grow, so any change shows).</summary>
        public Dictionary<string, (long Count, long MaxId)> Signatures { get; } = new(StringComparer.Ordinal);

        public long? Version { get; set; } = -1;

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
}
