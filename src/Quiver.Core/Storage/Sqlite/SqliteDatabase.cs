using System.Data;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Quiver.Core.Telemetry;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>
/// The embedded database: one SQLite file in WAL mode. Readers open short-lived pooled
/// connections and run concurrently; writers go through <see cref="WriteAsync{T}"/>, which
/// serialises them in-process (SQLite has one writer anyway) and uses <c>BEGIN IMMEDIATE</c>
/// so a transaction never fails half-way on a lock upgrade. Both are measured (docs/observability.md):
/// connections open through <see cref="OpenAsync"/> (an <see cref="Interlocked"/> count kept by the
/// connection's state changes, so a close or dispose anywhere counts), writers waiting for the lock, and
/// how long they waited.
/// </summary>
internal sealed class SqliteDatabase
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    public SqliteDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        QuiverTelemetry.SqliteInUse();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Opens a pooled connection with Quiver's per-connection settings.</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        connection.StateChange += CountOpenConnections;
        try
        {
            await connection.OpenAsync(ct);
            using var pragma = connection.CreateCommand();
            // synchronous=FULL: a committed write survives power loss, which the API promises for uploads and publication.
            pragma.CommandText = "PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;";
            await pragma.ExecuteNonQueryAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>One cached delegate for every connection: subscribing it allocates nothing.</summary>
    private static readonly StateChangeEventHandler CountOpenConnections = static (_, e) =>
    {
        if (e.CurrentState == ConnectionState.Open && e.OriginalState != ConnectionState.Open)
        {
            QuiverTelemetry.SqliteConnectionOpened();
        }
        else if (e.OriginalState == ConnectionState.Open && e.CurrentState != ConnectionState.Open)
        {
            QuiverTelemetry.SqliteConnectionClosed();
        }
    };

    /// <summary>Runs <paramref name="work"/> in one immediate write transaction and commits it.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken ct)
    {
        var waitStarted = Stopwatch.GetTimestamp();
        if (!_writer.Wait(0, ct))
        {
            QuiverTelemetry.SqliteWriterWaiting(1);
            try
            {
                await _writer.WaitAsync(ct);
            }
            finally
            {
                QuiverTelemetry.SqliteWriterWaiting(-1);
            }
        }

        QuiverTelemetry.StorageWriteWait.Record(Stopwatch.GetElapsedTime(waitStarted).TotalSeconds, QuiverTelemetry.SqliteBackend);
        try
        {
            await using var connection = await OpenAsync(ct);
            await using var transaction = connection.BeginTransaction(deferred: false);
            var result = await work(connection, transaction);
            await transaction.CommitAsync(ct);
            return result;
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> in one immediate write transaction and commits it.</summary>
    public Task WriteAsync(Func<SqliteConnection, SqliteTransaction, Task> work, CancellationToken ct) =>
        WriteAsync<bool>(async (c, t) =>
        {
            await work(c, t);
            return true;
        }, ct);
}
