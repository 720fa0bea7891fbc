using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Quiver.CrashTests;

/// <summary>
/// Where a scenario's server keeps its data, the environment that says so, and read-only SQL access to the same
/// database for the invariant checks (which look below the API: chunk rows against member rows).
/// </summary>
internal sealed class Backend
{
    private Backend(string name, string dataDir, string? connectionString, Dictionary<string, string> environment)
    {
        Name = name;
        DataDir = dataDir;
        ConnectionString = connectionString;
        Environment = environment;
    }

    public string Name { get; }

    public string DataDir { get; }

    /// <summary>The PostgreSQL connection string, or null for the embedded (SQLite) backend.</summary>
    public string? ConnectionString { get; }

    public bool IsPostgres => ConnectionString is not null;

    public Dictionary<string, string> Environment { get; }

    public static Backend Sqlite(string dataDir) => new("sqlite", dataDir, null, new() { ["Quiver__DataDir"] = dataDir });

    /// <summary>
    /// PostgreSQL at <paramref name="connectionString"/>. The lease is short (6 s) because on this backend a
    /// restarted process does not take over a dead process's claims before their lease runs out (another live
    /// process might hold them), and the crash loop should settle in seconds, not minutes.
    /// </summary>
    public static Backend Postgres(string dataDir, string connectionString) => new("postgres", dataDir, connectionString, new()
    {
        ["Quiver__DataDir"] = dataDir,
        ["Quiver__Storage__Provider"] = "postgres",
        ["ConnectionStrings__Quiver"] = connectionString,
        ["Quiver__Ingestion__LeaseSeconds"] = "6",
    });

    /// <summary>A read-only connection to the server's database.</summary>
    public async Task<DbConnection> OpenReadOnlyAsync(CancellationToken ct)
    {
        DbConnection connection = ConnectionString is null
            ? new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(DataDir, "quiver.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString())
            : new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Options = "-c default_transaction_read_only=on", Pooling = false }.ToString());
        await connection.OpenAsync(ct);
        return connection;
    }

    /// <summary>One scalar (as long, or the string for text results) of <paramref name="sql"/> with <c>@s</c> bound to the store id.</summary>
    public static async Task<object?> ScalarAsync(DbConnection connection, string sql, string storeId, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "s";
        parameter.Value = storeId;
        command.Parameters.Add(parameter);
        var value = await command.ExecuteScalarAsync(ct);
        return value is string or null or DBNull ? value : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }
}
