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

    private static async Task<long> ScalarAsync(QuiverFactory factory, string sql, string storeId, string? fileId)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(factory.DataDir, "quiver.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(Api.Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@store", storeId);
        command.Parameters.AddWithValue("@file", (object?)fileId ?? DBNull.Value);
        return (long)(await command.ExecuteScalarAsync(Api.Ct))!;
    }
}
