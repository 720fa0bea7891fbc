using System.Data.Common;
using Quiver.Core.Search;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Search;

/// <summary>
/// PostgreSQL's stored BM25 statistics against a from-scratch recomputation over the chunks in the database: every
/// posting (store, term, chunk, file, tf, chunk length), every term's document frequency and every store's chunk
/// count and token total must equal what analysing the chunk texts again gives, row for row.
/// </summary>
internal static class StoredLexicalStatistics
{
    public sealed record Chunk(long Id, string Store, string File, string Text);

    public static async Task<List<Chunk>> ReadChunksAsync(Func<DbConnection> open)
    {
        var rows = new List<Chunk>();
        await using var connection = open();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, vector_store_id, file_id, text FROM chunks";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            rows.Add(new Chunk(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }

        return rows;
    }

    public static async Task AssertMatchAsync(Func<DbConnection> open, List<Chunk> chunks, IReadOnlyList<AnalyzedText> analyzed)
    {
        var expectedPostings = new SortedSet<string>(StringComparer.Ordinal);
        var expectedTerms = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var expectedStores = new SortedDictionary<string, (long, long)>(StringComparer.Ordinal);
        for (var i = 0; i < chunks.Count; i++)
        {
            var (count, total) = expectedStores.GetValueOrDefault(chunks[i].Store);
            expectedStores[chunks[i].Store] = (count + 1, total + analyzed[i].Length);
            foreach (var (term, tf) in analyzed[i].Terms)
            {
                expectedPostings.Add($"{chunks[i].Store}|{term}|{chunks[i].Id}|{chunks[i].File}|{tf}|{analyzed[i].Length}");
                expectedTerms[$"{chunks[i].Store}|{term}"] = expectedTerms.GetValueOrDefault($"{chunks[i].Store}|{term}") + 1;
            }
        }

        var postings = await QueryAsync(open, "SELECT vector_store_id || '|' || term || '|' || chunk_id || '|' || file_id || '|' || tf || '|' || chunk_length FROM chunk_postings");
        Assert.Equal(expectedPostings, new SortedSet<string>(postings, StringComparer.Ordinal));
        var terms = await QueryAsync(open, "SELECT vector_store_id || '|' || term || '|' || df FROM lexical_terms");
        Assert.Equal(expectedTerms.Select(t => $"{t.Key}|{t.Value}").Order(StringComparer.Ordinal), terms.Order(StringComparer.Ordinal));
        var storeRows = await QueryAsync(open, "SELECT vector_store_id || '|' || chunk_count || '|' || token_total FROM lexical_stores WHERE chunk_count <> 0");
        Assert.Equal(expectedStores.Select(s => $"{s.Key}|{s.Value.Item1}|{s.Value.Item2}").Order(StringComparer.Ordinal), storeRows.Order(StringComparer.Ordinal));
        Assert.Empty(await QueryAsync(open, "SELECT vector_store_id FROM lexical_stores WHERE chunk_count < 0 OR token_total < 0"));
    }

    private static async Task<List<string>> QueryAsync(Func<DbConnection> open, string sql)
    {
        var rows = new List<string>();
        await using var connection = open();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
