namespace Quiver.Core.VectorStores;

/// <summary>
/// The durable job queue behind ingestion. Jobs are claimed with leases; publication and
/// failure are fenced on the file row's generation and the claim's owner, so work that was
/// cancelled, detached or re-attached meanwhile never becomes visible.
/// </summary>
public interface IIngestionJobStore
{
    /// <summary>Claims the next runnable job, preferring stores with the least work running (fairness).</summary>
    Task<ClaimedJob?> ClaimNextAsync(string owner, long nowMs, long leaseMs, long runDeadlineMs, CancellationToken ct);

    /// <summary>Extends a lease; false when the claim is no longer ours (the work must stop).</summary>
    Task<bool> ExtendLeaseAsync(ClaimedJob job, long untilMs, CancellationToken ct);

    /// <summary>Atomically replaces the file's chunks and marks it completed, if the claim is still live.</summary>
    Task<bool> PublishAsync(ClaimedJob job, IReadOnlyList<ChunkToPublish> chunks, string parsedText, long usageBytes, CancellationToken ct);

    /// <summary>Marks the file failed with <c>last_error</c>, if the claim is still live.</summary>
    Task<bool> FailAsync(ClaimedJob job, string code, string message, CancellationToken ct);

    /// <summary>Releases the claim so the job runs again after <paramref name="notBeforeMs"/>.</summary>
    Task RetryLaterAsync(ClaimedJob job, long notBeforeMs, CancellationToken ct);

    /// <summary>
    /// Hands a claim interrupted by this process's shutdown back at once, without counting the
    /// attempt: another process, or this one after its restart, takes it without waiting out the
    /// lease. Does nothing, and returns false, when the claim is no longer ours or the job already settled.
    /// </summary>
    Task<bool> ReleaseClaimAsync(ClaimedJob job, CancellationToken ct);

    /// <summary>Makes every running job claimable again at once (single-process start-up).</summary>
    Task<int> ReleaseAllClaimsAsync(CancellationToken ct);

    /// <summary>Fails jobs running past their deadline with <c>server_error</c>; returns their (store, file).</summary>
    Task<IReadOnlyList<(string StoreId, string FileId)>> FailOverdueAsync(long nowMs, string message, CancellationToken ct);

    /// <summary>Marks stores whose <c>expires_at</c> passed as expired; returns how many.</summary>
    Task<int> MarkExpiredStoresAsync(long now, CancellationToken ct);

    /// <summary>Milliseconds until the next queued job becomes runnable, or null when none is waiting.</summary>
    Task<long?> NextWakeDelayAsync(long nowMs, CancellationToken ct);

    /// <summary>How many jobs are in each state (<c>queued</c>, <c>running</c>), for the queue-depth metric.</summary>
    Task<IReadOnlyDictionary<string, long>> CountByStateAsync(CancellationToken ct);
}

/// <summary>A claimed job with what the pipeline needs to run it.</summary>
public sealed record ClaimedJob(
    long JobId,
    string Owner,
    string VectorStoreId,
    string FileId,
    long Generation,
    int Attempts,
    string Filename,
    string EmbeddingModel,
    int MaxChunkSizeTokens,
    int ChunkOverlapTokens,
    string? TraceParent = null);
