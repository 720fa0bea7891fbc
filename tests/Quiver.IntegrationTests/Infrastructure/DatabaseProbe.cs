using Microsoft.Data.Sqlite;
using Npgsql;

namespace Quiver.IntegrationTests.Infrastructure;

/// <summary>
/// Direct looks at the backend's storage, to check what the API cannot show (chunk and lexical
/// index rows, stored and staged file bytes). Works on both backends: SQLite file and FTS5, or the
/// PostgreSQL test database (where the lexical index is the <c>chunk_postings</c> table: a chunk is
/// indexed when it has postings) and its blob tables.
/// </summary>
public static class DatabaseProbe
{
    public static Task<long> CountChunksAsync(this QuiverFactory factory, string storeId, string? fileId = null) =>
        ScalarAsync(factory, "SELECT COUNT(*) FROM chunks WHERE vector_store_id = @store" + (fileId is null ? "" : " AND file_id = @file"), storeId, fileId);

    /// <summary>
    /// Lexical index rows of the store, or of one file's chunks (the index must mirror the chunks exactly). On SQLite
    /// this matches the store's token in the FTS5 index itself: a plain SELECT on an external-content table reads
    /// the content table and would count the chunks whatever the index holds. For a whole store it also counts
    /// entries whose chunk is gone.
    /// </summary>
    public static Task<long> CountFtsRowsAsync(this QuiverFactory factory, string storeId, string? fileId = null) =>
        factory is PostgresQuiverFactory
            ? ScalarAsync(factory, "SELECT COUNT(DISTINCT chunk_id) FROM chunk_postings WHERE vector_store_id = @store" + (fileId is null ? "" : " AND file_id = @file"), storeId, fileId)
            : ScalarAsync(factory, "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ('store : \"s' || hex(@store) || '0\"')"
                + (fileId is null ? "" : " AND rowid IN (SELECT id FROM chunks WHERE vector_store_id = @store AND file_id = @file)"), storeId, fileId);

    /// <summary>All lexical index rows (an orphaned row would show here after its chunk is gone).</summary>
    public static Task<long> CountAllFtsRowsAsync(this QuiverFactory factory) =>
        factory is PostgresQuiverFactory
            ? ScalarAsync(factory, "SELECT COUNT(DISTINCT chunk_id) FROM chunk_postings", "", null)
            : ScalarAsync(factory, "SELECT COUNT(*) FROM chunks_fts_docsize", "", null);

    public static Task<long> CountAllChunksAsync(this QuiverFactory factory) =>
        ScalarAsync(factory, "SELECT COUNT(*) FROM chunks", "", null);

    /// <summary>A file's chunk rows in a store, ordered by <c>chunk_index</c>.</summary>
    public static async Task<IReadOnlyList<ChunkRow>> ReadChunksAsync(this QuiverFactory factory, string storeId, string fileId)
    {
        await using System.Data.Common.DbConnection connection = factory is PostgresQuiverFactory postgres
            ? new NpgsqlConnection(postgres.ConnectionString)
            : Open(factory);
        await connection.OpenAsync(Api.Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT chunk_index, text, token_count FROM chunks WHERE vector_store_id = @store AND file_id = @file ORDER BY chunk_index";
        foreach (var (name, value) in new[] { ("store", storeId), ("file", fileId) })
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

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

    /// <summary>Whether the bytes of <paramref name="fileId"/> are stored.</summary>
    public static async Task<bool> BlobExistsAsync(this QuiverFactory factory, string fileId) =>
        factory is PostgresQuiverFactory
            ? await ScalarAsync(factory, "SELECT COUNT(*) FROM blobs WHERE key = @file", "", fileId) > 0
            : File.Exists(Path.Combine(factory.DataDir, "files", fileId));

    /// <summary>Stored (committed) file blobs.</summary>
    public static async Task<long> CountBlobsAsync(this QuiverFactory factory) =>
        factory is PostgresQuiverFactory
            ? await ScalarAsync(factory, "SELECT COUNT(*) FROM blobs WHERE key IS NOT NULL", "", null)
            : Directory.EnumerateFiles(Path.Combine(factory.DataDir, "files")).LongCount();

    /// <summary>The stored length of a file's bytes (-1 when missing).</summary>
    public static async Task<long> BlobLengthAsync(this QuiverFactory factory, string fileId)
    {
        if (factory is PostgresQuiverFactory)
        {
            return await ScalarAsync(factory, "SELECT COALESCE((SELECT SUM(length(p.data))::bigint FROM blobs b JOIN blob_parts p ON p.blob_id = b.id WHERE b.key = @file), -1)", "", fileId);
        }

        var path = Path.Combine(factory.DataDir, "files", fileId);
        return File.Exists(path) ? new FileInfo(path).Length : -1;
    }

    /// <summary>Staged (uncommitted) uploads: none may remain after a rejected upload.</summary>
    public static async Task<long> CountStagedBlobsAsync(this QuiverFactory factory) =>
        factory is PostgresQuiverFactory
            ? await ScalarAsync(factory, "SELECT COUNT(*) FROM blobs WHERE key IS NULL", "", null)
            : Directory.EnumerateFiles(Path.Combine(factory.DataDir, "tmp")).LongCount();

    /// <summary>Every table of the backend's database with its row count, by name (FTS5 shadow tables included).</summary>
    public static async Task<IReadOnlyList<(string Table, long Rows)>> TableRowCountsAsync(this QuiverFactory factory)
    {
        var tables = new List<string>();
        if (factory is PostgresQuiverFactory postgres)
        {
            await using var pg = new NpgsqlConnection(postgres.ConnectionString);
            await pg.OpenAsync(Api.Ct);
            await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", pg))
            await using (var reader = await list.ExecuteReaderAsync(Api.Ct))
            {
                while (await reader.ReadAsync(Api.Ct))
                {
                    tables.Add(reader.GetString(0));
                }
            }
        }
        else
        {
            await using var connection = Open(factory);
            await connection.OpenAsync(Api.Ct);
            await using var list = connection.CreateCommand();
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
            await using var reader = await list.ExecuteReaderAsync(Api.Ct);
            while (await reader.ReadAsync(Api.Ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var counts = new List<(string, long)>();
        foreach (var table in tables)
        {
            counts.Add((table, await ScalarAsync(factory, $"SELECT COUNT(*) FROM \"{table}\"")));
        }

        return counts;
    }

    /// <summary>A single integer from the backend's database; parameters are written <c>@name</c> in the SQL on both backends.</summary>
    public static async Task<long> ScalarAsync(this QuiverFactory factory, string sql, params (string Name, object Value)[] parameters)
    {
        if (factory is PostgresQuiverFactory postgres)
        {
            await using var pg = new NpgsqlConnection(postgres.ConnectionString);
            await pg.OpenAsync(Api.Ct);
            await using var pgCommand = new NpgsqlCommand(sql, pg);
            foreach (var (name, value) in parameters)
            {
                pgCommand.Parameters.AddWithValue(name.TrimStart('@'), value);
            }

            return Convert.ToInt64(await pgCommand.ExecuteScalarAsync(Api.Ct), System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var connection = Open(factory);
        await connection.OpenAsync(Api.Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(Api.Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<long> ScalarAsync(QuiverFactory factory, string sql, string storeId, string? fileId)
    {
        if (factory is PostgresQuiverFactory postgres)
        {
            await using var pg = new NpgsqlConnection(postgres.ConnectionString);
            await pg.OpenAsync(Api.Ct);
            await using var pgCommand = new NpgsqlCommand(sql, pg);
            pgCommand.Parameters.AddWithValue("store", storeId);
            pgCommand.Parameters.Add(new NpgsqlParameter("file", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)fileId ?? DBNull.Value });
            return (long)(await pgCommand.ExecuteScalarAsync(Api.Ct))!;
        }

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
