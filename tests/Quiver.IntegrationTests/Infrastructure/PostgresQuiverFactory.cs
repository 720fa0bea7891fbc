using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Quiver.IntegrationTests.Infrastructure;

/// <summary>
/// A Quiver host on the PostgreSQL backend: a fresh database <c>quiver_test_&lt;guid&gt;</c> on the
/// server named by <c>QUIVER_TEST_PG</c> (a connection string whose role may create databases,
/// and a superuser for <c>CREATE EXTENSION vector</c>), dropped on dispose. File bytes are in
/// the database too (<c>Quiver:Storage:Blobs = postgres</c>).
/// </summary>
public sealed class PostgresQuiverFactory : QuiverFactory
{
    public PostgresQuiverFactory()
    {
        if (PostgresTestServer.ConnectionString is null)
        {
            return; // the test classes skip (or fail in CI) before using the factory
        }

        (DatabaseName, ConnectionString) = PostgresTestServer.CreateDatabase();
        With("Quiver:Storage:Provider", "postgres");
        With("Quiver:Storage:Blobs", "postgres");
        With("ConnectionStrings:Quiver", ConnectionString);
    }

    /// <summary>A factory on an existing test database (see <see cref="QuiverFactory.Reopen"/>).</summary>
    private PostgresQuiverFactory(string dataDir, string? databaseName, string? connectionString)
        : base(dataDir)
    {
        (DatabaseName, ConnectionString) = (databaseName, connectionString);
    }

    public string? DatabaseName { get; }

    /// <summary>The test database's connection string.</summary>
    public string? ConnectionString { get; }

    /// <summary>
    /// Deadlocks PostgreSQL detected in this test's database so far. The server retries a transaction that loses one,
    /// so a request still succeeds (after deadlock_timeout, 1 s) and only this counter shows that two writes took their
    /// locks in opposite orders. Per-backend statistics reach pg_stat_database when a backend goes idle (up to 10 s
    /// later) or exits, so the server's idle connections are closed first.
    /// </summary>
    /// <summary>Deadlocks PostgreSQL has counted in this database, every backend's statistics flushed first.</summary>
    public async Task<long> CountDeadlocksAsync()
    {
        await FlushStatisticsAsync();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()", connection);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>
    /// Makes what every connection so far did visible in <c>pg_stat_*</c>. A backend reports its statistics when
    /// it next flushes them, which for an idle one can be 10 s later, and always as it exits (before it leaves
    /// <c>pg_stat_activity</c>). So the pools are cleared (idle connections close now, busy ones when returned) and
    /// this returns once every pooled backend that existed then is gone; the cancel listener's own connection stays
    /// (it only LISTENs).
    /// </summary>
    public async Task FlushStatisticsAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var now = new NpgsqlCommand("SELECT clock_timestamp()", connection);
        var cleared = (DateTime)(await now.ExecuteScalarAsync(ct))!;
        Services.GetRequiredService<Quiver.Core.Storage.Postgres.PostgresDatabase>().ClearIdleConnections();
        NpgsqlConnection.ClearPool(connection); // the test's own helper connections to this database
        await using var older = new NpgsqlCommand("""
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_start <= @cleared
              AND application_name <> 'quiver-cancel-listener'
            """, connection);
        older.Parameters.AddWithValue("cleared", cleared);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((long)(await older.ExecuteScalarAsync(ct))! > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the connections that existed when the pools were cleared did not close within 60 s");
            await Task.Delay(50, ct);
        }
    }

    protected override QuiverFactory CreateOnSameStorage() => new PostgresQuiverFactory(DataDir, DatabaseName, ConnectionString);

    public override async ValueTask DisposeAsync()
    {
        var ownsDatabase = OwnsStorage;
        await base.DisposeAsync();
        if (ownsDatabase && DatabaseName is not null)
        {
            await PostgresTestServer.DropDatabaseAsync(DatabaseName);
        }
    }
}

/// <summary>Whether PostgreSQL tests can run: <c>QUIVER_TEST_PG</c> set. In CI (<c>CI=true</c>) it must be.</summary>
public static class PostgresTestServer
{
    public const string Variable = "QUIVER_TEST_PG";

    public static string? ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    /// <summary>Skips the current test when no server is configured, unless running in CI, where that is a failure.</summary>
    public static void RequireOrSkip()
    {
        if (ConnectionString is not null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"{Variable} is not set but CI=true: the PostgreSQL contract suite must run in CI (see .ci/postgres.sh).");
        }

        Assert.Skip($"PostgreSQL tests need {Variable} (a connection string; .ci/postgres.sh starts a server).");
    }

    /// <summary>Creates a fresh database <c>quiver_test_&lt;guid&gt;</c>; returns its name and connection string.</summary>
    public static (string Name, string ConnectionString) CreateDatabase()
    {
        var server = ConnectionString ?? throw new InvalidOperationException($"{Variable} is not set.");
        var name = "quiver_test_" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection(server))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            create.ExecuteNonQuery();
        }

        return (name, new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
    }

    /// <summary>Drops a test database, closing whatever still uses it.</summary>
    public static async Task DropDatabaseAsync(string name)
    {
        if (ConnectionString is not { } server)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
