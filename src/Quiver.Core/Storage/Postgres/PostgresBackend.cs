using System.Data.Common;
using Npgsql;
using Quiver.Core.Storage.Relational;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// The shared database's face for the shared repositories: many writers in many processes, so rows read to decide
/// on are locked (in the fixed order store, store-file row, job); deleting or holding a running job's row notifies
/// every process (<see cref="PostgresCancelNotifications"/>); id lists are <c>text[]</c>; a new store's
/// dimensions get their vector index ahead of the first publication.
/// </summary>
internal sealed class PostgresBackend(PostgresDatabase database, PostgresVectorIndexes indexes) : SqlBackend
{
    public override async Task<DbConnection> OpenAsync(CancellationToken ct) => await database.OpenAsync(ct);

    public override Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct) =>
        database.WriteAsync((connection, transaction) => work(connection, transaction), ct);

    public override bool LimitsUnionBranches => true;

    public override string Lock(RowLock mode) => mode switch
    {
        RowLock.Share => " FOR SHARE",
        RowLock.NoKeyUpdate => " FOR NO KEY UPDATE",
        _ => " FOR UPDATE",
    };

    public override string DeleteJobs(string where) => PostgresCancelNotifications.DeleteJobs(where);

    public override string? HoldJobs(string where) => PostgresCancelNotifications.LockAndNotifyRunning(where);

    public override string IsAnyOf(string column, string parameter) => $"{column} = ANY({parameter})";

    public override object IdList(IReadOnlyList<string> ids) => ids as string[] ?? [.. ids];

    public override async Task StoreCreatedAsync(int dimensions, CancellationToken ct)
    {
        try
        {
            await indexes.EnsureAsync(dimensions, ct);
        }
        catch (NpgsqlException)
        {
            // The store exists; publication ensures the index again before the first chunks land.
        }
    }
}
