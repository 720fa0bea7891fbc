using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Ingestion;

/// <summary>
/// Periodic housekeeping: the watchdog that fails jobs running past their deadline with
/// <c>server_error</c> (and stops their work here), and the sweeper that marks stores whose
/// <c>expires_at</c> has passed as expired (D12), and deletes files past their upload <c>expires_after</c>.
/// </summary>
internal sealed partial class IngestionSweeper(
    IIngestionJobStore jobs,
    IngestionSignals signals,
    Files.FileService fileService,
    TimeProvider time,
    IOptions<IngestionOptions> options,
    ILogger<IngestionSweeper> logger) : BackgroundService
{
    private const int ExpiredFilesPerSweep = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(1, options.Value.SweepIntervalSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepOnceAsync(stoppingToken);
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogSweepError(logger, e);
                await Task.Delay(interval, time, stoppingToken);
            }
        }
    }

    /// <summary>One pass of both sweeps.</summary>
    public async Task SweepOnceAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var overdue = await jobs.FailOverdueAsync(now.ToUnixTimeMilliseconds(),
            "Processing took longer than the server's time limit and was stopped. Re-attach the file to try again.", ct);
        foreach (var (store, file) in overdue)
        {
            signals.CancelRunning(store, file);
            LogOverdue(logger, file, store);
        }

        var expired = await jobs.MarkExpiredStoresAsync(now.ToUnixTimeSeconds(), ct);
        if (expired > 0)
        {
            LogExpired(logger, expired);
        }

        // Files past their upload expires_after: removed with their chunks, a bounded number per pass.
        var files = await fileService.DeleteExpiredAsync(ExpiredFilesPerSweep, ct);
        if (files > 0)
        {
            LogExpiredFiles(logger, files);
        }
    }

    [LoggerMessage(EventId = 2023, Level = LogLevel.Information, Message = "Deleted {Count} expired files")]
    private static partial void LogExpiredFiles(ILogger logger, int count);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Warning, Message = "Watchdog failed {FileId} in {VectorStoreId}: past its deadline")]
    private static partial void LogOverdue(ILogger logger, string fileId, string vectorStoreId);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Information, Message = "Marked {Count} vector stores expired")]
    private static partial void LogExpired(ILogger logger, int count);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Error, Message = "Sweep failed; retrying")]
    private static partial void LogSweepError(ILogger logger, Exception exception);
}
