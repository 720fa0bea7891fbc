using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector;
using Quiver.Core.Search;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// Search in PostgreSQL: dense retrieval with pgvector over the narrow <c>chunk_vectors</c> table (cosine
/// distance on <c>embedding::vector(N)</c>: an exact scan of the store's vectors up to
/// <see cref="SearchOptions.PostgresHnswMinChunks"/> chunks, above it the per-dimension HNSW partial index with iterative scans so
/// the store still gets min(N, k) rows among other stores' vectors), and lexical retrieval by BM25 over the
/// store's postings with the embedded backend's analysis and formula (<see cref="Fts5Analyzer"/>,
/// <see cref="Bm25"/>; statistics kept by triggers, see the postings step of PostgresMigrations). A filter restricts both queries before
/// their LIMIT as a SQL predicate on the chunk's file (<see cref="PostgresFilterSql"/>).
/// </summary>
internal sealed class PostgresChunkSearchStore(PostgresDatabase database, IOptions<SearchOptions> options) : IChunkSearchStore
{
    /// <summary>
    /// Stores up to this many chunks are searched exactly (every vector of the store compared, found through
    /// <c>ix_chunk_vectors_store</c>); larger ones through the HNSW index. Below it an exact scan of the narrow
    /// vector table costs a few milliseconds and is exact; above it the scan grows linearly while the graph
    /// does not (<see cref="SearchOptions.PostgresHnswMinChunks"/>).
    /// </summary>
    private readonly long _exactScanMaxChunks = options.Value.PostgresHnswMinChunks;

    private long _prunedAnswers;

    /// <summary>Lexical searches answered by the MaxScore query without falling back (tests check the path is taken).</summary>
    internal long PrunedAnswers => Interlocked.Read(ref _prunedAnswers);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<IReadOnlyList<SearchHit>>> DenseSearchAsync(
        string storeId, int dimensions, IReadOnlyList<float[]> queries, int k, AttributeFilter? filter, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var size = await connection.Command("SELECT COALESCE((SELECT chunk_count FROM lexical_stores WHERE vector_store_id = @store), 0)", transaction)
            .With("store", storeId).ExecuteScalarAsync(ct) is long n ? n : 0;
        var exact = size <= _exactScanMaxChunks;

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

        await using var connection = await database.OpenAsync(ct);
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
        await using var connection = await database.OpenAsync(ct);
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

        await using var connection = await database.OpenAsync(ct);
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

}
