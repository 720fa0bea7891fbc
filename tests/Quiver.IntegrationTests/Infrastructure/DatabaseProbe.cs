using Microsoft.Data.Sqlite;

namespace Quiver.IntegrationTests.Infrastructure;

/// <summary>Direct looks at the embedded database, to check what the API cannot show (chunk and FTS rows).</summary>
public static class DatabaseProbe
{
    public static Task<long> CountChunksAsync(this QuiverFactory factory, string storeId, string? fileId = null) =>
        ScalarAsync(factory, "SELECT COUNT(*) FROM chunks WHERE vector_store_id = @store" + (fileId is null ? "" : " AND file_id = @file"), storeId, fileId);

    /// <summary>FTS rows whose chunk belongs to the store (the index must mirror the chunks exactly).</summary>
    public static Task<long> CountFtsRowsAsync(this QuiverFactory factory, string storeId, string? fileId = null) =>
        ScalarAsync(factory, "SELECT COUNT(*) FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE vector_store_id = @store" + (fileId is null ? "" : " AND file_id = @file") + ")", storeId, fileId);

    /// <summary>All FTS rows (an orphaned row would show here after its chunk is gone).</summary>
    public static Task<long> CountAllFtsRowsAsync(this QuiverFactory factory) =>
        ScalarAsync(factory, "SELECT COUNT(*) FROM chunks_fts_docsize", "", null);

    public static Task<long> CountAllChunksAsync(this QuiverFactory factory) =>
        ScalarAsync(factory, "SELECT COUNT(*) FROM chunks", "", null);

    /// <summary>A file's chunk rows in a store, ordered by <c>chunk_index</c>.</summary>
    public static async Task<IReadOnlyList<ChunkRow>> ReadChunksAsync(this QuiverFactory factory, string storeId, string fileId)
    {
        await using var connection = Open(factory);
        await connection.OpenAsync(Api.Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT chunk_index, text, token_count FROM chunks WHERE vector_store_id = @store AND file_id = @file ORDER BY chunk_index";
        command.Parameters.AddWithValue("@store", storeId);
        command.Parameters.AddWithValue("@file", fileId);
        var rows = new List<ChunkRow>();
        await using var reader = await command.ExecuteReaderAsync(Api.Ct);
        while (await reader.ReadAsync(Api.Ct))
        {
            rows.Add(new ChunkRow(reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2)));
        }

        return rows;
    }

    /// <summary>The store's <c>expired</c> flag as stored (set by the sweeper), not as computed by the API.</summary>
    public static async Task<bool> IsMarkedExpiredAsync(this QuiverFactory factory, string storeId) =>
        await ScalarAsync(factory, "SELECT expired FROM vector_stores WHERE id = @store", storeId, null) != 0;

    private static SqliteConnection Open(QuiverFactory factory) =>
        new($"Data Source={Path.Combine(factory.DataDir, "quiver.db")};Mode=ReadOnly;Pooling=False");

    private static async Task<long> ScalarAsync(QuiverFactory factory, string sql, string storeId, string? fileId)
    {
        await using var connection = Open(factory);
        await connection.OpenAsync(Api.Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@store", storeId);
        command.Parameters.AddWithValue("@file", (object?)fileId ?? DBNull.Value);
        return (long)(await command.ExecuteScalarAsync(Api.Ct))!;
    }
}

/// <summary>One row of the <c>chunks</c> table.</summary>
public sealed record ChunkRow(int Index, string Text, int TokenCount);
