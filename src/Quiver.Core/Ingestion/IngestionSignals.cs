using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Quiver.Core.Ingestion;

/// <summary>
/// In-process signals around the durable queue: a wake-up for idle workers after new jobs are
/// committed (the database remains the source of truth; a lost wake-up only costs the poll
/// interval), and the cancellation sources of jobs running here, so a cancel, detach or delete
/// stops their work at once.
/// </summary>
public sealed class IngestionSignals
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ConcurrentDictionary<(string Store, string File), CancellationTokenSource> _running = new();

    /// <summary>Wakes idle workers; call after committing new work.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Waits for a wake-up or the timeout, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(timeout);
        try
        {
            await _wake.Reader.ReadAsync(timer.Token);
            // Let the other idle workers look too: one write may stand for many new jobs.
            _wake.Writer.TryWrite(true);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Registers a job running here; its token is cancelled by <see cref="CancelRunning"/>.</summary>
    public CancellationTokenSource Register(string storeId, string fileId, CancellationToken stopping)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _running[(storeId, fileId)] = source;
        return source;
    }

    public void Unregister(string storeId, string fileId, CancellationTokenSource source) =>
        _running.TryRemove(new KeyValuePair<(string, string), CancellationTokenSource>((storeId, fileId), source));

    /// <summary>Stops the work running here for a file, if any. Callers commit the status change first.</summary>
    public void CancelRunning(string storeId, string fileId)
    {
        if (_running.TryGetValue((storeId, fileId), out var source))
        {
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Finished meanwhile.
            }
        }
    }

    /// <summary>Jobs running in this process right now.</summary>
    public int RunningCount => _running.Count;
}
