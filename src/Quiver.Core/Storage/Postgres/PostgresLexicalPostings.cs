using Microsoft.Extensions.Logging;
using Npgsql;
using Quiver.Core.Search;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// The PostgreSQL lexical index: writes a published chunk's postings (its terms from <see cref="Fts5Analyzer"/>, so
/// the same as the embedded backend's FTS5 index holds) and analyses chunks stored before the postings existed.
/// The term and store statistics BM25 needs are kept by the triggers of the postings step of PostgresMigrations from these rows.
/// </summary>
internal static partial class PostgresLexicalPostings
{
    private const int BackfillBatch = 500;

    /// <summary>Inserts the postings of freshly inserted chunks (<paramref name="chunkIds"/> parallel to <paramref name="analyzed"/>) in one statement.</summary>
    public static async Task InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string storeId, string fileId,
        IReadOnlyList<long> chunkIds, IReadOnlyList<AnalyzedText> analyzed, CancellationToken ct)
    {
        var size = analyzed.Sum(a => a.Terms.Count);
        if (size == 0)
        {
            return;
        }

        var terms = new string[size];
        var chunks = new long[size];
        var frequencies = new int[size];
        var lengths = new int[size];
        var row = 0;
        for (var i = 0; i < analyzed.Count; i++)
        {
            foreach (var (term, tf) in analyzed[i].Terms)
            {
                (terms[row], chunks[row], frequencies[row], lengths[row]) = (term, chunkIds[i], tf, analyzed[i].Length);
                row++;
            }
        }

        // One statement, so the term statistics trigger runs once per publish.
        await connection.Command("""
                INSERT INTO chunk_postings (vector_store_id, term, chunk_id, file_id, tf, chunk_length)
                SELECT @store, u.term, u.chunk, @file, u.tf, u.len FROM unnest(@terms, @chunks, @tfs, @lens) AS u(term, chunk, tf, len)
                """, transaction)
            .With("store", storeId).With("file", fileId).With("terms", terms).With("chunks", chunks).With("tfs", frequencies).With("lens", lengths)
            .ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Analyses every chunk without postings (stored before the postings existed), a batch per transaction, locking the
    /// chunks it fills so a concurrent delete either waits or wins (then its chunks are skipped). Idempotent;
    /// safe with several processes starting at once. Returns how many chunks it analysed.
    /// </summary>
    public static async Task<long> BackfillAsync(PostgresDatabase database, ILogger logger, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            var done = await database.WriteAsync(async (connection, transaction) =>
            {
                var rows = new List<(long Id, string Store, string File, string Text)>();
                await using (var reader = await connection.Command("""
                        SELECT id, vector_store_id, file_id, text FROM chunks WHERE lexical_length IS NULL
                        ORDER BY id LIMIT @n FOR UPDATE SKIP LOCKED
                        """, transaction).With("n", BackfillBatch).ExecuteReaderAsync(ct))
                {
                    while (await reader.ReadAsync(ct))
                    {
                        rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
                    }
                }

                if (rows.Count == 0)
                {
                    return 0;
                }

                var analyzed = Fts5Analyzer.Shared.Analyze([.. rows.Select(r => r.Text)]);
                // The stores' statistics rows before their terms' (the postings insert locks those): the order every chunk
                // write takes (PostgresMigrations, lexical lock order), so the backfill cannot deadlock with a publish or delete.
                await connection.Command("""
                        SELECT 1 FROM lexical_stores WHERE vector_store_id = ANY(@stores) ORDER BY vector_store_id FOR UPDATE
                        """, transaction)
                    .With("stores", rows.Select(r => r.Store).Distinct().ToArray()).ExecuteNonQueryAsync(ct);
                foreach (var group in rows.Select((r, i) => (r, i)).GroupBy(x => (x.r.Store, x.r.File)))
                {
                    await InsertAsync(connection, transaction, group.Key.Store, group.Key.File,
                        [.. group.Select(x => x.r.Id)], [.. group.Select(x => analyzed[x.i])], ct);
                }

                await connection.Command("""
                        UPDATE chunks c SET lexical_length = u.len FROM unnest(@ids, @lens) AS u(id, len) WHERE c.id = u.id
                        """, transaction)
                    .With("ids", rows.Select(r => r.Id).ToArray()).With("lens", analyzed.Select(a => a.Length).ToArray())
                    .ExecuteNonQueryAsync(ct);
                return rows.Count;
            }, ct);
            if (done == 0)
            {
                break;
            }

            total += done;
        }

        if (total > 0)
        {
            LogBackfilled(logger, total);
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Built the lexical postings of {Chunks} chunks stored before BM25 postings existed")]
    private static partial void LogBackfilled(ILogger logger, long chunks);
}
