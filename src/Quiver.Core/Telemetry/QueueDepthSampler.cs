using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Telemetry;

/// <summary>Samples the ingestion queue (jobs by state, from the database, so all processes' work) every 10 s for the queue-depth gauge.</summary>
internal sealed partial class QueueDepthSampler(IIngestionJobStore jobs, TimeProvider time, ILogger<QueueDepthSampler> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var counts = new Dictionary<string, long>(await jobs.CountByStateAsync(stoppingToken), StringComparer.Ordinal);
                counts.TryAdd("queued", 0);
                counts.TryAdd("running", 0);
                QuiverTelemetry.SetQueueDepth(counts);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Storage unavailable for a moment: the gauge keeps its last sample; readiness reports the outage.
                LogSampleFailed(logger, e.GetType().Name);
            }

            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 2050, Level = LogLevel.Debug, Message = "Could not sample the ingestion queue depth: {Error}")]
    private static partial void LogSampleFailed(ILogger logger, string error);
}
