using System.Collections.Concurrent;
using System.Threading.Channels;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Ingestion;

/// <summary>
/// In-process signals around the durable queue: a wake-up for idle workers after new jobs are
/// committed (the database remains the source of truth; a lost wake-up only costs the poll
/// interval), and the cancellation sources of jobs running here, so a cancel, detach or delete
/// stops their work at once (committed here, or, with PostgreSQL, in another process: see
/// <see cref="CancelStale"/>).
/// </summary>
public sealed class IngestionSignals
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>
    /// Keyed by the source rather than by file: two claims of one file can briefly run here at
    /// once (a re-attached file's new job is claimed before the old one has stopped), and each
    /// must stay cancellable on its own. A handful of entries (one per worker), so scans are cheap.
    /// </summary>
    private readonly ConcurrentDictionary<CancellationTokenSource, ClaimedJob> _running = new();

    /// <summary>Wakes idle workers; call after committing new work.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Waits for a wake-up or the timeout, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(timeout);
        try
        {
            // One wake-up is consumed by one worker. It is passed on only by a worker that then claims a job
            // (IngestionWorker), so a burst of jobs fans out to every idle worker and the chain ends at the
            // first worker that finds nothing. (Passing it on here, unconditionally, kept two idle workers
            // handing it back and forth for ever: two busy cores and a claim query per turn on an idle server.)
            await _wake.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Registers a job running here; its token is cancelled by <see cref="CancelRunning"/>, or by
    /// <see cref="CancelStale"/> when its claim (job id, generation) is no newer than the one named.
    /// </summary>
    public CancellationTokenSource Register(ClaimedJob job, CancellationToken stopping)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _running[source] = job;
        return source;
    }

    public void Unregister(CancellationTokenSource source) => _running.TryRemove(source, out _);

    /// <summary>Stops the work running here for a file, if any. Callers commit the status change first.</summary>
    public void CancelRunning(string storeId, string fileId)
    {
        foreach (var (source, job) in _running)
        {
            if (job.VectorStoreId == storeId && job.FileId == fileId)
            {
                Cancel(source);
            }
        }
    }

    /// <summary>
    /// Stops the work running here for a file whose claim was taken away by a transaction
    /// committed elsewhere, named by the job id and generation it had then. A job running here
    /// is stopped only if its claim is not newer: <c>(JobId, Generation) &lt;= (jobId, generation)</c>.
    /// Both only grow for a file: a re-attach of a file still in progress keeps the job row and
    /// bumps its generation; everything else deletes the job row, and a later attach inserts a
    /// new row with a larger (identity) id, even where the generation restarts at 1 because the
    /// store-file row was deleted too. So a late signal never stops a newer job of the same file.
    /// Returns whether anything was stopped (false when it had already stopped or been cancelled).
    /// </summary>
    public bool CancelStale(string storeId, string fileId, long jobId, long generation)
    {
        var stopped = false;
        foreach (var (source, job) in _running)
        {
            if (job.VectorStoreId == storeId && job.FileId == fileId
                && (job.JobId < jobId || (job.JobId == jobId && job.Generation <= generation)))
            {
                stopped |= Cancel(source);
            }
        }

        return stopped;
    }

    /// <summary>Jobs running in this process right now.</summary>
    public int RunningCount => _running.Count;

    private static bool Cancel(CancellationTokenSource source)
    {
        try
        {
            if (source.IsCancellationRequested)
            {
                return false;
            }

            source.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            // Finished meanwhile.
            return false;
        }
    }
}
