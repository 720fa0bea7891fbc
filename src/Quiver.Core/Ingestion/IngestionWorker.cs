using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quiver.Core.Hosting;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Ingestion;

/// <summary>
/// The worker pool: <see cref="IngestionOptions.EffectiveWorkers"/> loops that claim jobs from
/// the database, run them through <see cref="IngestionPipeline"/>, and renew their lease while
/// they run. A lease that cannot be renewed means the claim was taken away (cancel, detach,
/// another process): the work is stopped. On stop the loops end and hand the claims of the
/// jobs they interrupted back to the queue, so another process (or this one after its restart)
/// resumes them at once; claims left by a crash are released at the next start (embedded) or
/// when their lease runs out (shared database).
/// </summary>
internal sealed partial class IngestionWorker(
    IIngestionJobStore jobs,
    IngestionPipeline pipeline,
    IngestionSignals signals,
    ReadinessState readiness,
    TimeProvider time,
    IOptions<IngestionOptions> options,
    ILogger<IngestionWorker> logger) : BackgroundService
{
    public const string Component = "ingestion-workers";

    /// <summary>Longest idle wait between looks at the queue (a missed wake-up costs at most this).</summary>
    private static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(1);

    /// <summary>Longest a stopping worker spends handing one interrupted job back.</summary>
    private static readonly TimeSpan HandBackTimeout = TimeSpan.FromSeconds(5);

    private readonly IngestionOptions _options = options.Value;
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Require(Component);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Embedded storage has one process: anything still claimed belongs to a previous run that crashed.
        var released = await jobs.ReleaseAllClaimsAsync(stoppingToken);
        if (released > 0)
        {
            LogResumed(logger, released);
        }

        readiness.Set(Component, true);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, _options.EffectiveWorkers).Select(_ => RunLoopAsync(stoppingToken)));
        }
        finally
        {
            readiness.Set(Component, false);
        }
    }

    private async Task RunLoopAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var leaseMs = _options.LeaseSeconds * 1000L;
        while (!stoppingToken.IsCancellationRequested)
        {
            ClaimedJob? job;
            try
            {
                job = await jobs.ClaimNextAsync(_owner, Now(), leaseMs, _options.JobTimeoutSeconds * 1000L, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogLoopError(logger, e);
                await signals.WaitAsync(MaxIdle, stoppingToken);
                continue;
            }

            if (job is null)
            {
                var next = await SafeNextWakeAsync(stoppingToken);
                await signals.WaitAsync(next is { } ms && ms < MaxIdle.TotalMilliseconds ? TimeSpan.FromMilliseconds(ms + 5) : MaxIdle, stoppingToken);
                continue;
            }

            // There may be more: let another idle worker look (it stops the chain if it finds nothing).
            signals.Wake();
            await RunJobAsync(job, leaseMs, stoppingToken);
        }
    }

    private async Task RunJobAsync(ClaimedJob job, long leaseMs, CancellationToken stoppingToken)
    {
        var source = signals.Register(job, stoppingToken);
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(job, leaseMs, source, heartbeatStop.Token);
        // Cancel-to-idle: from the job learning it is cancelled (not the host stopping) to this worker being free.
        long cancelledAt = 0;
        using var onCancel = source.Token.Register(() =>
        {
            if (!stoppingToken.IsCancellationRequested)
            {
                Interlocked.Exchange(ref cancelledAt, System.Diagnostics.Stopwatch.GetTimestamp());
            }
        });
        try
        {
            await pipeline.RunAsync(job, source.Token);
        }
        catch (Exception e)
        {
            // The pipeline settles its own errors; reaching here means settling itself failed.
            LogLoopError(logger, e);
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
            if (stoppingToken.IsCancellationRequested)
            {
                await HandBackAsync(job);
            }

            signals.Unregister(source);
            source.Dispose();
            if (Interlocked.Read(ref cancelledAt) is var at and > 0)
            {
                Telemetry.QuiverTelemetry.CancelToIdle.Record(System.Diagnostics.Stopwatch.GetElapsedTime(at).TotalSeconds);
            }
        }
    }

    /// <summary>
    /// Returns an interrupted job to the queue on shutdown (a no-op when it settled first). Bounded,
    /// so an unreachable database cannot hold the stop; the lease expiring is the fallback.
    /// </summary>
    private async Task HandBackAsync(ClaimedJob job)
    {
        using var bound = new CancellationTokenSource(HandBackTimeout);
        try
        {
            if (await jobs.ReleaseClaimAsync(job, bound.Token))
            {
                LogHandedBack(logger, job.FileId, job.VectorStoreId);
            }
        }
        catch (Exception e)
        {
            LogHandBackFailed(logger, e, job.FileId, job.VectorStoreId);
        }
    }

    /// <summary>Renews the lease every third of its length; a refused renewal stops the job.</summary>
    private async Task HeartbeatAsync(ClaimedJob job, long leaseMs, CancellationTokenSource work, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(leaseMs / 3.0), time, stop);
                if (!await jobs.ExtendLeaseAsync(job, Now() + leaseMs, stop))
                {
                    await work.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            LogLoopError(logger, e);
        }
    }

    private async Task<long?> SafeNextWakeAsync(CancellationToken ct)
    {
        try
        {
            return await jobs.NextWakeDelayAsync(Now(), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;
        }
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Resuming {Count} ingestion jobs left claimed by a previous run that did not stop cleanly")]
    private static partial void LogResumed(ILogger logger, int count);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Could not hand {FileId} in {VectorStoreId} back to the queue on shutdown; it resumes when its lease runs out")]
    private static partial void LogHandBackFailed(ILogger logger, Exception exception, string fileId, string vectorStoreId);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "Handed {FileId} in {VectorStoreId} back to the queue on shutdown")]
    private static partial void LogHandedBack(ILogger logger, string fileId, string vectorStoreId);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Error, Message = "Ingestion worker error; continuing")]
    private static partial void LogLoopError(ILogger logger, Exception exception);
}
