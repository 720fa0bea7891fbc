using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector;
using Quiver.Core.Search;
using Quiver.Core.Search.Indexes;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// Search in PostgreSQL. A store of up to <see cref="SearchOptions.PostgresHnswMinChunks"/> chunks is searched from this
/// process's copies of its vectors (<see cref="StoreVectorIndexes"/>, the embedded backend's exact index, loaded from the
/// narrow <c>chunk_vectors</c> table) and of its postings (<see cref="StoreLexicalIndexes"/>), both checked against the
/// store's <c>lexical_stores.chunks_version</c> on every search — the publishing transaction bumps it, so a change made
/// by any process shows on the next search. A larger store, or any store with the copies off, is searched in SQL: dense
/// by pgvector (an exact scan below the threshold, above it the per-dimension HNSW partial index with iterative scans,
/// so it still gets min(N, k) rows among other stores' vectors), lexical by BM25 over the store's postings with the
/// embedded backend's analysis and formula (<see cref="Fts5Analyzer"/>, <see cref="Bm25"/>; statistics kept by triggers,
/// see the postings step of PostgresMigrations). A filter restricts both before their LIMIT: a SQL predicate on the
/// chunk's file (<see cref="PostgresFilterSql"/>), or for the in-process copies the ids of the files passing it.
/// </summary>
internal sealed class PostgresChunkSearchStore : IChunkSearchStore, IVectorRowSource, IAsyncDisposable
{
    private readonly PostgresDatabase _database;

    /// <summary>
    /// Stores up to this many chunks are searched exactly; larger ones through the HNSW index. Below it an exact scan
    /// costs a few milliseconds (in PostgreSQL; well under one from memory) and is exact; above it the scan grows
    /// linearly while the graph does not (<see cref="SearchOptions.PostgresHnswMinChunks"/>).
    /// </summary>
    private readonly long _exactScanMaxChunks;

    /// <summary>The in-process exact indexes of small stores, or null when <see cref="SearchOptions.PostgresStoreCacheMegabytes"/> is 0.</summary>
    private readonly StoreVectorIndexes? _resident;

    /// <summary>The in-process postings of small stores, or null when <see cref="SearchOptions.PostgresStoreCacheMegabytes"/> is 0.</summary>
    private readonly StoreLexicalIndexes? _residentPostings;

    private long _prunedAnswers;

    public PostgresChunkSearchStore(PostgresDatabase database, IOptions<SearchOptions> options, TimeProvider time, ILogger<PostgresChunkSearchStore> logger)
    {
        _database = database;
        _exactScanMaxChunks = options.Value.PostgresHnswMinChunks;
        if (options.Value.PostgresStoreCacheMegabytes > 0)
        {
            // Exact indexes only: stores past the threshold are pgvector's, so no graphs (and no graph directory) here.
            var exactOnly = new SearchOptions { HnswMinChunks = 0, PostgresHnswMinChunks = options.Value.PostgresHnswMinChunks };
            _resident = new StoreVectorIndexes(this, exactOnly, graphDirectory: null, time, logger,
                maxResidentBytes: options.Value.PostgresStoreCacheMegabytes * 1024L * 1024L);
            _residentPostings = new StoreLexicalIndexes(time, options.Value.PostgresStoreCacheMegabytes * 1024L * 1024L);
        }
    }

    /// <summary>Lexical searches answered by the MaxScore query without falling back (tests check the path is taken).</summary>
    internal long PrunedAnswers => Interlocked.Read(ref _prunedAnswers);

    /// <summary>Loads of stores' vectors into this process (tests check a search was served from memory); 0 with the cache off.</summary>
    internal long ResidentLoads => _resident?.Loads ?? 0;

    /// <summary>Loads of stores' postings into this process; 0 with the cache off.</summary>
    internal long ResidentPostingLoads => _residentPostings?.Loads ?? 0;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<IReadOnlyList<SearchHit>>> DenseSearchAsync(
        string storeId, int dimensions, IReadOnlyList<float[]> queries, int k, AttributeFilter? filter, CancellationToken ct)
    {
        await using var connection = await _database.OpenAsync(ct);
        // One round trip for what both paths need: the store's size (which path), its chunk version (is the copy
        // current) and, for a small store searched from memory, the files that pass the filter.
        var (size, version, allowed) = await ReadStoreStateAsync(connection, storeId, _resident is null ? null : filter, ct);
        if (version is null)
        {
            _resident?.Forget(storeId);
            return [.. queries.Select(_ => (IReadOnlyList<SearchHit>)[])]; // the store is gone
        }

        if (_resident is not null && size <= _exactScanMaxChunks)
        {
            if (allowed is { Count: 0 })
            {
                return [.. queries.Select(_ => (IReadOnlyList<SearchHit>)[])];
            }

            await using var rows = new RowReader(connection, version, ownsConnection: false);
            return await _resident.SearchAsync(rows, storeId, dimensions, queries, k, allowed, ct);
        }

        return await SqlDenseSearchAsync(connection, storeId, dimensions, queries, k, filter, exact: size <= _exactScanMaxChunks, ct);
    }

    /// <summary>
    /// The store's chunk count and chunk version (bumped by every insert and delete of its chunks; null when the store
    /// is gone) and, when <paramref name="filter"/> is given and the store is small enough to be searched from memory,
    /// the ids of its searchable files that pass it (null otherwise) — one statement, so one round trip and one snapshot.
    /// </summary>
    private async Task<(long Size, long? Version, HashSet<string>? Allowed)> ReadStoreStateAsync(
        NpgsqlConnection connection, string storeId, AttributeFilter? filter, CancellationToken ct)
    {
        await using var command = connection.Command(ChunksVersionSql).With("store", storeId);
        if (filter is not null)
        {
            // The file list only where the in-memory path will use it: a large store's filter is a predicate of its SQL.
            command.With("small", _exactScanMaxChunks);
            command.CommandText = $"""
                SELECT st.size, st.version,
                       CASE WHEN st.size <= @small THEN ARRAY(
                           SELECT f.file_id FROM vector_store_files f
                           WHERE f.vector_store_id = @store AND {PostgresFilterSql.FilesPassing(filter, command, "f.file_id")}) END
                FROM ({ChunksVersionSql}) AS st (size, version)
                """;
        }

        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return (0, null, null);
        }

        var allowed = filter is null || await reader.IsDBNullAsync(2, ct)
            ? null
            : new HashSet<string>(reader.GetFieldValue<string[]>(2), StringComparer.Ordinal);
        return (reader.GetInt64(0), reader.GetInt64(1), allowed);
    }

    /// <summary>The store's chunk count and chunk version; no row when the store is gone.</summary>
    private const string ChunksVersionSql = """
        SELECT COALESCE(ls.chunk_count, 0), COALESCE(ls.chunks_version, 0) FROM vector_stores s
        LEFT JOIN lexical_stores ls ON ls.vector_store_id = s.id WHERE s.id = @store
        """;

    /// <summary>Dense search in PostgreSQL: an exact scan of the store's vectors, or the HNSW index (<paramref name="exact"/> false).</summary>
    private static async Task<IReadOnlyList<IReadOnlyList<SearchHit>>> SqlDenseSearchAsync(
        NpgsqlConnection connection, string storeId, int dimensions, IReadOnlyList<float[]> queries, int k, AttributeFilter? filter, bool exact, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // The dimension is the store's own (an integer from our schema), never client text. The exact plan orders
        // by an expression the HNSW index does not match, so the planner reads the store's rows and sorts them.
        var cast = $"vector({dimensions})";
        var distance = $"embedding::{cast} <=> @query::{cast}";
        var sql = $"""
            SELECT chunk_id, 1 - ({distance}) FROM chunk_vectors
            WHERE dims = {dimensions} AND vector_store_id = @store /*filter*/
            ORDER BY {(exact ? $"({distance}) + 0" : distance)}
            LIMIT @k
            """;
        if (!exact)
        {
            // Iterative index scans keep walking the graph until LIMIT rows pass the WHERE clause. The planner's
            // cost model prices the graph walk high and would often read the store's rows and sort them instead —
            // the exact plan this size is meant to avoid — so sorting is priced out for this transaction.
            await connection.Command(
                    "SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = 100; SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off",
                    transaction)
                .ExecuteNonQueryAsync(ct);
        }

        var results = new List<IReadOnlyList<SearchHit>>(queries.Count);
        foreach (var query in queries)
        {
            await using var command = connection.Command("", transaction)
                .With("query", new Vector(query)).With("store", storeId).With("k", k);
            command.CommandText = sql.Replace("/*filter*/", filter is null ? "" : "AND " + PostgresFilterSql.FilesPassing(filter, command, "file_id"), StringComparison.Ordinal);

            var hits = new List<SearchHit>(k);
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    hits.Add(new SearchHit(reader.GetInt64(0), (float)reader.GetDouble(1)));
                }
            }

            // relaxed_order may return near-ties out of order; the contract is best first.
            hits.Sort((a, b) => b.Score.CompareTo(a.Score) is var c && c != 0 ? c : a.Key.CompareTo(b.Key));
            results.Add(hits);
        }

        await transaction.CommitAsync(ct);
        return results;
    }

    /// <summary>
    /// BM25 of one posting row for query term row <c>q</c> (its idf) and store row <c>st</c> (its mean length), in
    /// float8 throughout (a bare literal such as 2.2 would make PostgreSQL compute in numeric, several times slower).
    /// </summary>
    private static string Bm25Sql(string posting) => string.Create(CultureInfo.InvariantCulture,
        $"q.idf * ({posting}.tf * {Bm25.K1 + 1}::float8) / ({posting}.tf + {Bm25.K1}::float8 * ({1 - Bm25.B}::float8 + {Bm25.B}::float8 * {posting}.chunk_length / st.avgdl))");

    /// <summary>The store's chunk count and mean length (<c>st</c>), and each query term's idf (<c>q</c>) from its document frequency.</summary>
    private static readonly string StatisticsCtes = string.Create(CultureInfo.InvariantCulture, $"""
        st AS (
            SELECT chunk_count::float8 AS n, token_total::float8 / GREATEST(chunk_count, 1) AS avgdl
            FROM lexical_stores WHERE vector_store_id = @store AND chunk_count > 0),
        q AS (
            SELECT t.term, GREATEST(ln((st.n - t.df + 0.5::float8) / (t.df + 0.5::float8)), {Bm25.MinIdf}::float8) AS idf
            FROM lexical_terms t, st WHERE t.vector_store_id = @store AND t.term = ANY(@terms))
        """);

    /// <summary>Every posting of every query term, summed per chunk: exact, and linear in the terms' postings.</summary>
    private static readonly string ExhaustiveSql = $"""
        WITH {StatisticsCtes}
        SELECT p.chunk_id, SUM({Bm25Sql("p")}) AS score
        FROM q JOIN chunk_postings p ON p.vector_store_id = @store AND p.term = q.term CROSS JOIN st
        WHERE TRUE /*filter*/
        GROUP BY p.chunk_id
        ORDER BY score DESC, p.chunk_id
        LIMIT @k
        """;

    /// <summary>
    /// MaxScore over the (store, term, chunk) key. Only the rarer terms' postings are read in full (<c>part</c>: each
    /// candidate's partial score); the <c>@common</c> terms' are looked up for the candidates that can still make the
    /// top k: those whose partial score plus <c>@bound</c> (the most the common terms can add) reaches the k-th best
    /// partial score, a lower bound of the k-th final score. What this cannot see — a chunk holding only common
    /// terms — scores below <c>@bound</c>; the caller checks the k-th result is at least that, else runs the
    /// exhaustive query.
    /// </summary>
    private static readonly string PrunedSql = $"""
        WITH {StatisticsCtes},
        part AS (
            SELECT p.chunk_id, SUM({Bm25Sql("p")}) AS partial
            FROM q JOIN chunk_postings p ON p.vector_store_id = @store AND p.term = q.term CROSS JOIN st
            WHERE q.term <> ALL(@common) /*filter*/
            GROUP BY p.chunk_id),
        kth AS (SELECT COALESCE((SELECT partial FROM part ORDER BY partial DESC LIMIT 1 OFFSET @k - 1), 0) AS v),
        live AS (SELECT part.chunk_id, part.partial FROM part, kth WHERE part.partial + @bound >= kth.v)
        SELECT l.chunk_id, l.partial + COALESCE((
                SELECT SUM({Bm25Sql("c")})
                FROM q JOIN chunk_postings c ON c.vector_store_id = @store AND c.term = q.term AND c.chunk_id = l.chunk_id CROSS JOIN st
                WHERE q.term = ANY(@common)), 0) AS score
        FROM live l
        ORDER BY score DESC, l.chunk_id
        LIMIT @k
        """;

    /// <inheritdoc/>
    /// <remarks>
    /// BM25 (<see cref="Bm25"/>'s constants and formula) from the store's statistics, read through the (store, term)
    /// key — no chunk without a query term is read. Frequent terms (in at least a quarter of the chunks, and in more
    /// than 2k) carry the bulk of the postings and little idf, so they are evaluated MaxScore-style (<see cref="PrunedSql"/>),
    /// which returns exactly what the exhaustive sum does, or falls back to it.
    /// </remarks>
    public async Task<IReadOnlyList<SearchHit>> LexicalSearchAsync(string storeId, string query, int k, AttributeFilter? filter, CancellationToken ct)
    {
        // The query's terms as the index holds them (stemmed and folded by the same FTS5 tokenizer).
        var terms = Fts5Analyzer.Shared.QueryTerms(query);
        if (terms.Count == 0)
        {
            return [];
        }

        await using var connection = await _database.OpenAsync(ct);
        if (_residentPostings is not null)
        {
            // Small stores from this process's copy of their postings (the same sum, every posting of every term).
            var (size, version, allowed) = await ReadStoreStateAsync(connection, storeId, filter, ct);
            if (version is null)
            {
                _residentPostings.Remove(storeId);
                return [];
            }

            if (size <= _exactScanMaxChunks)
            {
                if (allowed is { Count: 0 })
                {
                    return [];
                }

                await using var rows = new RowReader(connection, version, ownsConnection: false);
                return await _residentPostings.SearchAsync(rows, storeId, version.Value, terms, k, allowed, ct);
            }
        }

        return await SqlLexicalSearchAsync(connection, storeId, terms, k, filter, ct);
    }

    /// <summary>The lexical search in SQL alone, whatever the store's size (tests compare the paths).</summary>
    internal async Task<IReadOnlyList<SearchHit>> LexicalSearchInDatabaseAsync(string storeId, string query, int k, AttributeFilter? filter, CancellationToken ct)
    {
        var terms = Fts5Analyzer.Shared.QueryTerms(query);
        if (terms.Count == 0)
        {
            return [];
        }

        await using var connection = await _database.OpenAsync(ct);
        return await SqlLexicalSearchAsync(connection, storeId, terms, k, filter, ct);
    }

    private async Task<IReadOnlyList<SearchHit>> SqlLexicalSearchAsync(
        NpgsqlConnection connection, string storeId, IReadOnlyList<string> terms, int k, AttributeFilter? filter, CancellationToken ct)
    {
        var (chunkCount, frequencies) = await ReadFrequenciesAsync(connection, storeId, terms, ct);
        if (frequencies.Count == 0)
        {
            return [];
        }

        // Frequent: in a quarter of the chunks or more (idf ≤ ln 3, so each adds at most ~2.4 to a score) — few enough
        // that the top k's partial scores usually clear their bound; a lower cut made SciFact's claims fall back often.
        var threshold = Math.Max(chunkCount / 4, 2L * k);
        var common = frequencies.Where(f => f.Value >= threshold).Select(f => f.Key).ToArray();
        // Worth trying only when the rarer terms alone can fill the top k: with fewer candidates than k, chunks holding
        // only frequent terms must fill it and the exhaustive sum would run anyway (a filter may still cut candidates).
        var rareReach = frequencies.Where(f => f.Value < threshold).Select(f => f.Value).DefaultIfEmpty(0).Max();
        if (common.Length > 0 && common.Length < frequencies.Count && rareReach >= k)
        {
            // idf ≤ max(ln(...), MinIdf) and tf / (tf + K1·(…)) < 1: a strict upper bound of what the common terms add.
            var bound = common.Sum(term => Math.Max(Math.Log((chunkCount - frequencies[term] + 0.5) / (frequencies[term] + 0.5)), Bm25.MinIdf) * (Bm25.K1 + 1));
            var (hits, last) = await ScoreAsync(connection, PrunedSql, storeId, frequencies.Keys, k, filter, ct, common, bound);
            if (hits.Count == k && last >= bound)
            {
                Interlocked.Increment(ref _prunedAnswers);
                return hits;
            }
        }

        return (await ScoreAsync(connection, ExhaustiveSql, storeId, frequencies.Keys, k, filter, ct)).Hits;
    }

    /// <summary>The exhaustive lexical query alone (tests compare the pruned one with it).</summary>
    internal async Task<IReadOnlyList<SearchHit>> LexicalSearchExhaustiveAsync(string storeId, string query, int k, AttributeFilter? filter, CancellationToken ct)
    {
        await using var connection = await _database.OpenAsync(ct);
        return (await ScoreAsync(connection, ExhaustiveSql, storeId, Fts5Analyzer.Shared.QueryTerms(query), k, filter, ct)).Hits;
    }

    /// <summary>The store's chunk count and the document frequency of each query term it holds (absent terms left out).</summary>
    private static async Task<(long ChunkCount, Dictionary<string, long> Frequencies)> ReadFrequenciesAsync(
        NpgsqlConnection connection, string storeId, IReadOnlyCollection<string> terms, CancellationToken ct)
    {
        long chunkCount = 0;
        var frequencies = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var command = connection.Command("""
                SELECT st.chunk_count, t.term, t.df FROM lexical_stores st
                LEFT JOIN lexical_terms t ON t.vector_store_id = st.vector_store_id AND t.term = ANY(@terms)
                WHERE st.vector_store_id = @store AND st.chunk_count > 0
                """)
            .With("store", storeId).With("terms", terms.ToArray());
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            chunkCount = reader.GetInt64(0);
            if (!reader.IsDBNull(1))
            {
                frequencies[reader.GetString(1)] = reader.GetInt64(2);
            }
        }

        return (chunkCount, frequencies);
    }

    private static async Task<(List<SearchHit> Hits, double Last)> ScoreAsync(
        NpgsqlConnection connection, string sql, string storeId, IEnumerable<string> terms, int k, AttributeFilter? filter,
        CancellationToken ct, string[]? common = null, double bound = 0)
    {
        await using var command = connection.Command("").With("terms", terms.ToArray()).With("store", storeId).With("k", k);
        if (common is not null)
        {
            command.With("common", common).With("bound", bound);
        }

        command.CommandText = sql.Replace("/*filter*/", filter is null ? "" : "AND " + PostgresFilterSql.FilesPassing(filter, command, "p.file_id"), StringComparison.Ordinal);
        var hits = new List<SearchHit>(k);
        var last = double.NegativeInfinity;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            last = reader.GetDouble(1);
            hits.Add(new SearchHit(reader.GetInt64(0), (float)last));
        }

        return (hits, last);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<long, ChunkContent>> GetChunksAsync(string storeId, IReadOnlyList<long> keys, CancellationToken ct)
    {
        var result = new Dictionary<long, ChunkContent>(keys.Count);
        if (keys.Count == 0)
        {
            return result;
        }

        await using var connection = await _database.OpenAsync(ct);
        await using var command = connection.Command("""
                SELECT c.id, c.file_id, f.filename, vf.attributes, c.text FROM chunks c
                JOIN vector_store_files vf ON vf.vector_store_id = c.vector_store_id AND vf.file_id = c.file_id
                JOIN files f ON f.id = c.file_id
                WHERE c.vector_store_id = @store AND c.id = ANY(@ids)
                """)
            .With("store", storeId).With("ids", keys.ToArray());
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[reader.GetInt64(0)] = new ChunkContent(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), AttributeMap.FromJson(reader.GetString(3)), reader.GetString(4));
        }

        return result;
    }

    /// <inheritdoc/>
    public async Task<IVectorRowReader> OpenAsync(CancellationToken ct) => new RowReader(await _database.OpenAsync(ct), knownVersion: null, ownsConnection: true);

    /// <inheritdoc/>
    public bool IsStorageFailure(Exception exception) => exception is NpgsqlException;

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _resident?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>
    /// The rows the in-process index loads, on one connection. <paramref name="knownVersion"/> is the version the
    /// search already read with the store's size: the first ask is answered from it, later ones (the re-read under
    /// the refresh lock) go to the database. A search's reader borrows its connection; a background one owns it.
    /// </summary>
    private sealed class RowReader(NpgsqlConnection connection, long? knownVersion, bool ownsConnection) : IVectorRowReader, ILexicalRowReader
    {
        private long? _knownVersion = knownVersion;

        public async Task<long?> ReadChunksVersionAsync(string storeId, CancellationToken ct)
        {
            if (_knownVersion is { } known)
            {
                _knownVersion = null;
                return known;
            }

            await using var reader = await connection.Command(ChunksVersionSql).With("store", storeId).ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? reader.GetInt64(1) : null;
        }

        public async Task<IReadOnlyDictionary<string, FileChunkSignature>> ReadFileSignaturesAsync(string storeId, CancellationToken ct)
        {
            var current = new Dictionary<string, FileChunkSignature>(StringComparer.Ordinal);
            await using var reader = await connection.Command(
                "SELECT file_id, COUNT(*), MAX(chunk_id) FROM chunk_vectors WHERE vector_store_id = @store GROUP BY file_id").With("store", storeId).ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                current[reader.GetString(0)] = new FileChunkSignature(reader.GetInt64(1), reader.GetInt64(2));
            }

            return current;
        }

        public async Task ReadFileVectorsAsync(string storeId, string fileId, int dimensions, List<long> keys, List<float> vectors, CancellationToken ct)
        {
            await using var reader = await connection.Command(
                    "SELECT chunk_id, embedding FROM chunk_vectors WHERE vector_store_id = @store AND file_id = @file AND dims = @dims ORDER BY chunk_id")
                .With("store", storeId).With("file", fileId).With("dims", dimensions).ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                keys.Add(reader.GetInt64(0));
                vectors.AddRange(reader.GetFieldValue<Vector>(1).Memory.Span);
            }
        }

        public async Task<IReadOnlyDictionary<string, FileChunkSignature>> ReadLexicalSignaturesAsync(string storeId, CancellationToken ct)
        {
            var current = new Dictionary<string, FileChunkSignature>(StringComparer.Ordinal);
            await using var reader = await connection.Command(
                    "SELECT file_id, COUNT(*), MAX(id) FROM chunks WHERE vector_store_id = @store AND lexical_length IS NOT NULL GROUP BY file_id")
                .With("store", storeId).ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                current[reader.GetString(0)] = new FileChunkSignature(reader.GetInt64(1), reader.GetInt64(2));
            }

            return current;
        }

        public async Task<IReadOnlyDictionary<string, FileLexicalRows>> ReadFileLexicalRowsAsync(string storeId, IReadOnlyList<string>? fileIds, CancellationToken ct)
        {
            var chunks = new Dictionary<string, List<(long Key, int Length)>>(StringComparer.Ordinal);
            var fileOf = new Dictionary<long, string>();
            await using (var command = connection.Command(
                    "SELECT file_id, id, lexical_length FROM chunks WHERE vector_store_id = @store AND lexical_length IS NOT NULL" +
                    (fileIds is null ? "" : " AND file_id = ANY(@files)"))
                .With("store", storeId))
            {
                if (fileIds is not null)
                {
                    command.With("files", fileIds.ToArray());
                }

                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var fileId = reader.GetString(0);
                    var key = reader.GetInt64(1);
                    (chunks.TryGetValue(fileId, out var list) ? list : chunks[fileId] = []).Add((key, reader.GetInt32(2)));
                    fileOf[key] = fileId;
                }
            }

            // The whole store through the (store, term, chunk) key; some files through the chunk index.
            var postings = new Dictionary<string, List<(long ChunkKey, string Term, int Frequency)>>(StringComparer.Ordinal);
            if (fileOf.Count > 0)
            {
                await using var command = connection.Command(
                        "SELECT chunk_id, term, tf FROM chunk_postings WHERE vector_store_id = @store" + (fileIds is null ? "" : " AND chunk_id = ANY(@chunks)"))
                    .With("store", storeId);
                if (fileIds is not null)
                {
                    command.With("chunks", fileOf.Keys.ToArray());
                }

                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var key = reader.GetInt64(0);
                    if (fileOf.TryGetValue(key, out var fileId))
                    {
                        (postings.TryGetValue(fileId, out var list) ? list : postings[fileId] = []).Add((key, reader.GetString(1), reader.GetInt32(2)));
                    }
                }
            }

            return chunks.ToDictionary(
                c => c.Key, c => new FileLexicalRows(c.Value, postings.GetValueOrDefault(c.Key) ?? []), StringComparer.Ordinal);
        }

        public ValueTask DisposeAsync() => ownsConnection ? connection.DisposeAsync() : ValueTask.CompletedTask;
    }
}
