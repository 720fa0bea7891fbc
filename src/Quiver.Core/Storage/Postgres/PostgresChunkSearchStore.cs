using System.Globalization;
using Microsoft.Extensions.Options;
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

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SearchHit>> LexicalSearchAsync(string storeId, string query, int k, AttributeFilter? filter, CancellationToken ct)
    {
        // The query's terms as the index holds them (stemmed and folded by the same FTS5 tokenizer).
        var terms = Fts5Analyzer.Shared.QueryTerms(query);
        if (terms.Count == 0)
        {
            return [];
        }

        // BM25 (Bm25's constants and formula) from the store's statistics, one statement: the store's chunk
        // count and mean length, each query term's idf from its document frequency, then the postings of those
        // terms only, through the (store, term) primary key — no other chunk is read.
        var sql = $"""
            WITH st AS (
                SELECT chunk_count::float8 AS n, token_total::float8 / GREATEST(chunk_count, 1) AS avgdl
                FROM lexical_stores WHERE vector_store_id = @store AND chunk_count > 0),
            q AS (
                SELECT t.term, GREATEST(ln((st.n - t.df + 0.5) / (t.df + 0.5)), {Bm25.MinIdf.ToString(CultureInfo.InvariantCulture)}) AS idf
                FROM lexical_terms t, st WHERE t.vector_store_id = @store AND t.term = ANY(@terms))
            SELECT p.chunk_id,
                SUM(q.idf * (p.tf * {(Bm25.K1 + 1).ToString(CultureInfo.InvariantCulture)})
                    / (p.tf + {Bm25.K1.ToString(CultureInfo.InvariantCulture)} * ({(1 - Bm25.B).ToString(CultureInfo.InvariantCulture)} + {Bm25.B.ToString(CultureInfo.InvariantCulture)} * p.chunk_length / st.avgdl))) AS score
            FROM q JOIN chunk_postings p ON p.vector_store_id = @store AND p.term = q.term CROSS JOIN st
            /*filter*/
            GROUP BY p.chunk_id
            ORDER BY score DESC, p.chunk_id
            LIMIT @k
            """;
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command("").With("terms", terms.ToArray()).With("store", storeId).With("k", k);
        command.CommandText = sql.Replace("/*filter*/", filter is null ? "" : "WHERE " + PostgresFilterSql.FilesPassing(filter, command, "p.file_id"), StringComparison.Ordinal);

        var hits = new List<SearchHit>(k);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            hits.Add(new SearchHit(reader.GetInt64(0), (float)reader.GetDouble(1)));
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
