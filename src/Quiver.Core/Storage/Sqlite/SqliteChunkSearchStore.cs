using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quiver.Core.Search;
using Quiver.Core.Search.Indexes;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>
/// Search over the embedded database, its SQL only: dense retrieval from the in-memory
/// <see cref="StoreVectorIndexes"/> (which this store feeds with chunk rows through <see cref="IVectorRowSource"/>),
/// lexical retrieval with FTS5 <c>bm25()</c>. A filter becomes the set of passing files (evaluated in process by
/// <see cref="StoreFileAttributes"/> over the attributes this store reads once per <c>files_version</c>), applied
/// inside both retrievals before their top-k cut: the database and the index are in this process, so the set is
/// not a round trip, and it saves parsing every file's attributes in SQL on every filtered search.
/// </summary>
internal sealed class SqliteChunkSearchStore : IChunkSearchStore, IVectorRowSource, IAsyncDisposable
{
    private readonly SqliteDatabase _database;
    private readonly StoreVectorIndexes _indexes;
    private readonly StoreFileAttributes _files = new();

    public SqliteChunkSearchStore(SqliteDatabase database, IOptions<SearchOptions> options, TimeProvider time, ILogger<SqliteChunkSearchStore> logger)
    {
        _database = database;
        // The HNSW graphs are saved in indexes/ beside the database file.
        var graphDirectory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(database.Path))!, "indexes");
        _indexes = new StoreVectorIndexes(this, options.Value, graphDirectory, time, logger);
    }

    /// <summary>A store's graph and the version its exact index holds (tests and diagnostics).</summary>
    internal (HnswStoreGraph? Graph, long Version) GraphStateOf(string storeId) => _indexes.GraphStateOf(storeId);

    /// <summary>
    /// Ids of the store's searchable files that pass <paramref name="filter"/> (null: no restriction), from the
    /// store's files as of its <c>files_version</c> (bumped by triggers on every change to its file rows), which
    /// <see cref="StoreFileAttributes"/> keeps between searches.
    /// </summary>
    private async Task<IReadOnlySet<string>?> AllowedFilesAsync(SqliteConnection connection, string storeId, AttributeFilter? filter, CancellationToken ct)
    {
        if (filter is null)
        {
            return null;
        }

        var version = await connection.Command("SELECT files_version FROM vector_stores WHERE id = @store")
            .With("@store", storeId).ExecuteScalarAsync(ct) as long?;
        return await _files.PassingAsync(storeId, version, filter, async loadCt =>
        {
            await using var command = connection.Command("""
                    SELECT vf.file_id, vf.attributes FROM vector_store_files vf
                    WHERE vf.vector_store_id = @store AND vf.status IN ('completed', 'in_progress')
                    """).With("@store", storeId);
            await using var reader = await command.ExecuteReaderAsync(loadCt);
            var files = new List<(string FileId, AttributeMap Attributes)>();
            while (await reader.ReadAsync(loadCt))
            {
                files.Add((reader.GetString(0), AttributeMap.FromJson(reader.GetString(1))));
            }

            return files;
        }, ct);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<IReadOnlyList<SearchHit>>> DenseSearchAsync(
        string storeId, int dimensions, IReadOnlyList<float[]> queries, int k, AttributeFilter? filter, CancellationToken ct)
    {
        await using var reader = (RowReader)await OpenAsync(ct);
        var allowed = await AllowedFilesAsync(reader.Connection, storeId, filter, ct);
        if (allowed is { Count: 0 })
        {
            return [.. queries.Select(_ => (IReadOnlyList<SearchHit>)[])];
        }

        return await _indexes.SearchAsync(reader, storeId, dimensions, queries, k, allowed, ct);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SearchHit>> LexicalSearchAsync(string storeId, string query, int k, AttributeFilter? filter, CancellationToken ct)
    {
        var match = Fts5QueryBuilder.Build(query);
        if (match is null)
        {
            return [];
        }

        // The store is a token of the index (migration 4), so FTS5 only ranks this store's chunks;
        // its column weight is 0, leaving BM25 to the text. A filter still joins to the chunk's file.
        await using var connection = await _database.OpenAsync(ct);
        var allowedFiles = await AllowedFilesAsync(connection, storeId, filter, ct);
        if (allowedFiles is { Count: 0 })
        {
            return [];
        }

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
        await using var connection = await _database.OpenAsync(ct);
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

    /// <inheritdoc/>
    public async Task<IVectorRowReader> OpenAsync(CancellationToken ct) => new RowReader(await _database.OpenAsync(ct));

    /// <inheritdoc/>
    public bool IsStorageFailure(Exception exception) => exception is SqliteException;

    /// <summary>Saves the graphs' unsaved changes (host shutdown).</summary>
    public ValueTask DisposeAsync() => _indexes.DisposeAsync();

    /// <summary>The chunk rows the in-memory index loads, read on one connection.</summary>
    private sealed class RowReader(SqliteConnection connection) : IVectorRowReader
    {
        public SqliteConnection Connection => connection;

        public async Task<long?> ReadChunksVersionAsync(string storeId, CancellationToken ct) =>
            await connection.Command("SELECT chunks_version FROM vector_stores WHERE id = @store").With("@store", storeId).ExecuteScalarAsync(ct) as long?;

        public async Task<IReadOnlyDictionary<string, FileChunkSignature>> ReadFileSignaturesAsync(string storeId, CancellationToken ct)
        {
            var current = new Dictionary<string, FileChunkSignature>(StringComparer.Ordinal);
            await using var reader = await connection.Command(
                "SELECT file_id, COUNT(*), MAX(id) FROM chunks WHERE vector_store_id = @store GROUP BY file_id").With("@store", storeId).ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                current[reader.GetString(0)] = new FileChunkSignature(reader.GetInt64(1), reader.GetInt64(2));
            }

            return current;
        }

        public async Task ReadFileVectorsAsync(string storeId, string fileId, int dimensions, List<long> keys, List<float> vectors, CancellationToken ct)
        {
            await using var reader = await connection.Command(
                    "SELECT id, embedding FROM chunks WHERE vector_store_id = @store AND file_id = @file ORDER BY id")
                .With("@store", storeId).With("@file", fileId).ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var blob = (byte[])reader.GetValue(1);
                if (blob.Length != dimensions * sizeof(float))
                {
                    continue; // a vector of another size cannot belong to this store's model
                }

                keys.Add(reader.GetInt64(0));
                vectors.AddRange(MemoryMarshal.Cast<byte, float>(blob));
            }
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
