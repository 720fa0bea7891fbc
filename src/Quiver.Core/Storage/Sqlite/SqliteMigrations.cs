using Microsoft.Data.Sqlite;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>
/// Versioned schema. Each entry runs once, in order, in its own transaction, and bumps
/// <c>PRAGMA user_version</c>; released entries are never edited, only appended to.
/// </summary>
internal static class SqliteMigrations
{
    private static readonly string[] Steps =
    [
        // 1: keys and files.
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            project TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            is_admin INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE TABLE files (
            id TEXT PRIMARY KEY,
            project TEXT NOT NULL,
            owner TEXT NOT NULL,
            filename TEXT NOT NULL,
            purpose TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX ix_files_principal ON files (project, owner, created_at, id);
        """,
    ];

    /// <summary>The schema version this build expects.</summary>
    public static int LatestVersion => Steps.Length;

    /// <summary>Switches the file to WAL and applies every step newer than its version.</summary>
    public static async Task MigrateAsync(SqliteDatabase database, CancellationToken ct)
    {
        await using (var connection = await database.OpenAsync(ct))
        {
            // WAL is a property of the file: set once, it stays for every later connection.
            await connection.Command("PRAGMA journal_mode=WAL;").ExecuteNonQueryAsync(ct);
        }

        await database.WriteAsync(async (connection, transaction) =>
        {
            var version = await GetVersionAsync(connection, transaction, ct);
            if (version > Steps.Length)
            {
                throw new InvalidOperationException(
                    $"The database at '{database.Path}' has schema version {version}, newer than this build's {Steps.Length}. Run a newer Quiver.");
            }

            for (var step = version; step < Steps.Length; step++)
            {
                await connection.Command(Steps[step], transaction).ExecuteNonQueryAsync(ct);
                await connection.Command($"PRAGMA user_version = {step + 1};", transaction).ExecuteNonQueryAsync(ct);
            }
        }, ct);
    }

    /// <summary>The version recorded in the database file.</summary>
    public static async Task<int> GetVersionAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken ct) =>
        Convert.ToInt32(await connection.Command("PRAGMA user_version;", transaction).ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
}
