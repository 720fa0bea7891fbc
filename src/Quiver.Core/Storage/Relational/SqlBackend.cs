using System.Data.Common;

namespace Quiver.Core.Storage.Relational;

/// <summary>
/// What the shared repositories (<see cref="SqlVectorStoreRepository"/>, <see cref="SqlFileRepository"/>, the key,
/// grant and idempotency stores) need from a SQL backend, and only what truly differs between SQLite and PostgreSQL:
/// how a connection and a write transaction are had, whether rows are locked (PostgreSQL's many writers) or writes
/// are serialised anyway (SQLite's single writer), how job rows are deleted (PostgreSQL tells workers in other
/// processes), how a list of ids is passed, and what a new store needs prepared. Everything else — the SQL that
/// both speak, validation, state transitions, accounting, mapping and paging — lives once, in the repositories.
/// </summary>
internal abstract class SqlBackend
{
    /// <summary>A pooled connection, opened.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>Runs <paramref name="work"/> in one write transaction and commits it (retried where the backend retries).</summary>
    public abstract Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct);

    /// <summary>Runs <paramref name="work"/> in one write transaction and commits it.</summary>
    public Task WriteAsync(Func<DbConnection, DbTransaction, Task> work, CancellationToken ct) =>
        WriteAsync<bool>(async (c, t) =>
        {
            await work(c, t);
            return true;
        }, ct);

    /// <summary>
    /// The clause that locks the rows a SELECT reads inside a write transaction ("" where writers are serialised and
    /// a read in the transaction is already stable).
    /// </summary>
    public abstract string Lock(RowLock mode);

    /// <summary>True when <see cref="Lock"/> locks anything (so a lock-only SELECT is worth a round trip).</summary>
    public bool LocksRows => Lock(RowLock.Update).Length != 0;

    /// <summary>One statement that deletes the job rows matching <paramref name="where"/> (and signals running ones).</summary>
    public abstract string DeleteJobs(string where);

    /// <summary>
    /// One statement that holds the job rows matching <paramref name="where"/> until commit and signals running ones,
    /// for a job the transaction then updates; null where nothing needs holding.
    /// </summary>
    public abstract string? HoldJobs(string where);

    /// <summary>A predicate "<paramref name="column"/> is one of the ids in parameter <paramref name="parameter"/>".</summary>
    public abstract string IsAnyOf(string column, string parameter);

    /// <summary>The value to bind to a parameter used with <see cref="IsAnyOf"/>.</summary>
    public abstract object IdList(IReadOnlyList<string> ids);

    /// <summary>
    /// How a list's two branches (the owned rows' index walk, the rows shared with the principal) become one keyset
    /// page: false when the planner merges a compound <c>ORDER BY … LIMIT</c> and stops early (SQLite); true to order
    /// and limit each branch first (PostgreSQL sorts a compound's whole result; docs/authorization.md).
    /// </summary>
    public abstract bool LimitsUnionBranches { get; }

    /// <summary>Prepares what a new store of <paramref name="dimensions"/> needs (best effort; publication ensures it again).</summary>
    public virtual Task StoreCreatedAsync(int dimensions, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>How strongly a read inside a write transaction locks its rows.</summary>
internal enum RowLock
{
    /// <summary>Others may read and lock for share, not change or delete (a file being attached).</summary>
    Share,

    /// <summary>Others may not change the row, but may reference it (a store whose files change).</summary>
    NoKeyUpdate,

    /// <summary>Exclusive (a row about to be deleted or decided on).</summary>
    Update,
}
