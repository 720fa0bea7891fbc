using Npgsql;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// The shared database: one pooled <see cref="NpgsqlDataSource"/> (with pgvector's type mapping),
/// a connection per operation. Writes run in one READ COMMITTED transaction each; the code takes
/// row locks in a fixed order (store, store-file row, job) where it decides on what it read, and a
/// transaction that still loses a deadlock or serialization race is retried from the start.
/// </summary>
internal sealed class PostgresDatabase : IAsyncDisposable
{
    private const int MaxAttempts = 5;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresDatabase(string connectionString)
    {
        ConnectionString = connectionString;
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (!Mentions(connectionString, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            // Quiver sends the same few dozen statements over and over (role checks, store and file lookups, claims,
            // publication): prepared on their connection after two uses, they skip parse and plan from then on.
            // An operator behind a pooler without prepared-statement support sets Max Auto Prepare=0 (docs/deployment.md).
            builder.ConnectionStringBuilder.MaxAutoPrepare = AutoPrepareStatements;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }

        // The pool's name labels Npgsql's metrics on the unauthenticated /metrics; left unset it is the connection
        // string without its password (user and database included), so it is the application name, or "quiver".
        builder.Name = string.IsNullOrEmpty(builder.ConnectionStringBuilder.ApplicationName) ? "quiver" : builder.ConnectionStringBuilder.ApplicationName;
        builder.UseVector();
        _dataSource = builder.Build();
    }

    /// <summary>The connection string (migrations open their own connection before the extension's types exist).</summary>
    public string ConnectionString { get; }

    /// <summary>Opens a pooled connection.</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct) => await _dataSource.OpenConnectionAsync(ct);

    /// <summary>Runs <paramref name="work"/> in one transaction and commits it, retrying on deadlock/serialization failures.</summary>
    public async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await OpenAsync(ct);
                await using var transaction = await connection.BeginTransactionAsync(ct);
                var result = await work(connection, transaction);
                await transaction.CommitAsync(ct);
                return result;
            }
            catch (PostgresException e) when (attempt < MaxAttempts && IsTransient(e))
            {
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), ct);
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> in one transaction and commits it.</summary>
    public Task WriteAsync(Func<NpgsqlConnection, NpgsqlTransaction, Task> work, CancellationToken ct) =>
        WriteAsync<bool>(async (c, t) =>
        {
            await work(c, t);
            return true;
        }, ct);

    /// <summary>Statements kept prepared per connection when the connection string does not say (least recently used go first).</summary>
    public const int AutoPrepareStatements = 128;

    /// <summary>True when the connection string sets one of <paramref name="keywords"/> (in any case and spacing Npgsql accepts).</summary>
    private static bool Mentions(string connectionString, params string[] keywords)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return given.Keys.Cast<string>().Any(key => keywords.Any(k => string.Equals(key.Replace(" ", "", StringComparison.Ordinal), k.Replace(" ", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>Deadlock or serialization failure: the transaction lost a race and can run again from the start.</summary>
    private static bool IsTransient(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;

    /// <summary>Closes the pool's idle connections (their server backends exit, which flushes their statistics at once; tests read those).</summary>
    internal void ClearIdleConnections() => _dataSource.Clear();

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
