using System.Text.Json;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// The cross-process cancel signal of the PostgreSQL backend. Every transaction that takes a
/// claim away from a running job (batch cancel, detach, file delete, store delete, the watchdog
/// failing an overdue job, a re-attach superseding a file still in progress) sends one
/// <c>NOTIFY</c> per running job it took away, from the statement that deletes or locks the job
/// row, so a 2,000-file cancel stays one round trip. PostgreSQL delivers notifications only when
/// the transaction commits: a rolled-back cancel signals nobody, and a listener never sees a
/// cancel before it is visible. <see cref="PostgresCancelListener"/> turns them into
/// <see cref="Ingestion.IngestionSignals.CancelStale"/> in every process. Queued jobs are not
/// signalled: no worker is running them.
/// </summary>
internal static class PostgresCancelNotifications
{
    /// <summary>The channel (one per database, so deployments on separate databases never hear each other).</summary>
    public const string Channel = "quiver_ingestion_cancel";

    /// <summary>
    /// The payload names the claim taken away: store, file, job id and the generation the job had
    /// (<c>{"store" : "vs_…", "file" : "file-…", "job" : 42, "generation" : 3}</c>, about 120 bytes;
    /// ids are at most 70 characters, far from the 8,000-byte NOTIFY limit). The generation alone
    /// would not do: a detach deletes the store-file row, and a later re-attach starts again at 1.
    /// </summary>
    private const string Payload =
        "json_build_object('store', vector_store_id, 'file', file_id, 'job', id, 'generation', generation)::text";

    /// <summary>One statement: deletes the job rows matching <paramref name="where"/> and notifies for those that were running.</summary>
    /// <remarks>A data-modifying CTE runs to completion whatever the outer query reads; each running row yields one notify.</remarks>
    public static string DeleteJobs(string where) => $"""
        WITH gone AS (DELETE FROM ingestion_jobs WHERE {where} RETURNING id, vector_store_id, file_id, generation, state)
        SELECT pg_notify('{Channel}', {Payload}) FROM gone WHERE state = 'running'
        """;

    /// <summary>
    /// One statement: locks the job rows matching <paramref name="where"/> (whatever their state,
    /// so no worker claims one until the caller commits) and notifies for those that are running.
    /// For a job row the transaction then updates rather than deletes (a re-attach bumps its generation).
    /// </summary>
    public static string LockAndNotifyRunning(string where) => $"""
        WITH held AS (SELECT id, vector_store_id, file_id, generation, state FROM ingestion_jobs WHERE {where} FOR UPDATE)
        SELECT pg_notify('{Channel}', {Payload}) FROM held WHERE state = 'running'
        """;

    /// <summary>Reads a payload; null when it is not one of ours.</summary>
    public static TakenClaim? Parse(string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            return new TakenClaim(
                root.GetProperty("store").GetString() ?? throw new FormatException("store is null"),
                root.GetProperty("file").GetString() ?? throw new FormatException("file is null"),
                root.GetProperty("job").GetInt64(),
                root.GetProperty("generation").GetInt64());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>A claim taken away by a committed transaction: the job (id, generation) that was running for a store's file.</summary>
internal sealed record TakenClaim(string StoreId, string FileId, long JobId, long Generation);
