using System.Data.Common;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Storage.Relational;

/// <summary>
/// The claim-fenced job statements SQLite and PostgreSQL speak word for word: giving a claim back to the queue,
/// later (a retry) or at once (a stopping worker). Claiming, leases, deletes and notifications differ between the
/// backends and stay in their job stores. Each statement changes the row only while the claim is still the
/// caller's (same owner and generation).
/// </summary>
internal static class SqlJobClaims
{
    /// <summary>Queues the job again after <paramref name="notBeforeMs"/> (the attempt stays counted).</summary>
    public static async Task RetryLaterAsync(DbConnection connection, DbTransaction transaction, ClaimedJob job, long notBeforeMs, CancellationToken ct) =>
        await connection.Command("""
                UPDATE ingestion_jobs SET state = 'queued', lease_owner = NULL, lease_until_ms = NULL, not_before_ms = @not_before
                WHERE id = @job AND lease_owner = @owner AND generation = @generation
                """, transaction)
            .With("@not_before", notBeforeMs).With("@job", job.JobId).With("@owner", job.Owner).With("@generation", job.Generation)
            .ExecuteNonQueryAsync(ct);

    /// <summary>Queues a running job again at once and gives its attempt back; false when the claim was no longer ours.</summary>
    public static async Task<bool> ReleaseAsync(DbConnection connection, DbTransaction transaction, ClaimedJob job, CancellationToken ct) =>
        await connection.Command("""
                UPDATE ingestion_jobs SET state = 'queued', lease_owner = NULL, lease_until_ms = NULL, attempts = attempts - 1
                WHERE id = @job AND lease_owner = @owner AND generation = @generation AND state = 'running'
                """, transaction)
            .With("@job", job.JobId).With("@owner", job.Owner).With("@generation", job.Generation)
            .ExecuteNonQueryAsync(ct) == 1;
}
