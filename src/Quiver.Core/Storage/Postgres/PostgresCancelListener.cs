using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quiver.Core.Ingestion;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// Hears the cancels other processes commit (<see cref="PostgresCancelNotifications"/>) and stops
/// the matching work running here at once, instead of at its next lease heartbeat (up to a
/// third of <c>Quiver:Ingestion:LeaseSeconds</c> later). It holds one dedicated, unpooled
/// connection with <c>LISTEN</c> (a session feature: behind PgBouncer in transaction mode,
/// <c>ConnectionStrings:QuiverListen</c> should point straight at PostgreSQL) and reconnects with
/// backoff when it drops.
///
/// This is only about promptness. Notifications sent while the connection was down are lost, and
/// that loses nothing for correctness: publication is fenced on (owner, generation, status) in
/// its own transaction, and a worker whose claim was taken away still stops at its next heartbeat,
/// as it did before this listener existed.
/// </summary>
internal sealed partial class PostgresCancelListener(
    string connectionString,
    IngestionSignals signals,
    TimeProvider time,
    ILogger<PostgresCancelListener> logger) : BackgroundService
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Seconds of silence after which Npgsql sends a keepalive query, so a dead link surfaces while waiting.</summary>
    private const int KeepAliveSeconds = 15;

    private volatile bool _listening;

    /// <summary>True while <c>LISTEN</c> is active on a live connection (for tests and diagnostics).</summary>
    public bool IsListening => _listening;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = MinBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ListenerConnectionString(connectionString));
                connection.Notification += OnNotification;
                await connection.OpenAsync(stoppingToken);
                await connection.Command($"LISTEN {PostgresCancelNotifications.Channel}").ExecuteNonQueryAsync(stoppingToken);
                _listening = true;
                backoff = MinBackoff;
                LogListening(logger, PostgresCancelNotifications.Channel);
                while (true)
                {
                    // Notifications are raised (OnNotification) on this call; it returns after each one.
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _listening = false;
                // Jitter spreads the reconnects of many processes after a database restart.
                var delay = backoff * (0.8 + Random.Shared.NextDouble() * 0.4);
                LogReconnecting(logger, e, (long)delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Channel != PostgresCancelNotifications.Channel)
        {
            return;
        }

        if (PostgresCancelNotifications.Parse(e.Payload) is not { } claim)
        {
            LogMalformed(logger, e.Payload.Length > 200 ? e.Payload[..200] : e.Payload);
            return;
        }

        try
        {
            if (signals.CancelStale(claim.StoreId, claim.FileId, claim.JobId, claim.Generation))
            {
                LogStopped(logger, claim.FileId, claim.StoreId, claim.JobId, claim.Generation);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A throwing cancellation callback must not take the listening connection down with it.
            LogHandlerError(logger, ex);
        }
    }

    /// <summary>
    /// The configured connection, unpooled (it lives as long as the process) and with a keepalive;
    /// multiplexing cannot wait for notifications. An application name the operator set is kept.
    /// </summary>
    internal static string ListenerConnectionString(string configured)
    {
        var builder = new NpgsqlConnectionStringBuilder(configured) { Pooling = false, Multiplexing = false };
        if (builder.KeepAlive <= 0)
        {
            builder.KeepAlive = KeepAliveSeconds;
        }

        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "quiver-cancel-listener";
        }

        return builder.ConnectionString;
    }

    [LoggerMessage(EventId = 2030, Level = LogLevel.Information, Message = "Listening for ingestion cancels from other processes on channel {Channel}")]
    private static partial void LogListening(ILogger logger, string channel);

    [LoggerMessage(EventId = 2031, Level = LogLevel.Information, Message = "Stopped {FileId} in {VectorStoreId}: job {JobId} generation {Generation} was taken away by another transaction")]
    private static partial void LogStopped(ILogger logger, string fileId, string vectorStoreId, long jobId, long generation);

    [LoggerMessage(EventId = 2032, Level = LogLevel.Warning, Message = "Cancel listener connection failed; reconnecting in {DelayMs} ms (meanwhile cancels from other processes take effect at the next lease heartbeat)")]
    private static partial void LogReconnecting(ILogger logger, Exception exception, long delayMs);

    [LoggerMessage(EventId = 2033, Level = LogLevel.Warning, Message = "Ignored a malformed ingestion cancel notification: {Payload}")]
    private static partial void LogMalformed(ILogger logger, string payload);

    [LoggerMessage(EventId = 2034, Level = LogLevel.Error, Message = "Handling an ingestion cancel notification failed")]
    private static partial void LogHandlerError(ILogger logger, Exception exception);
}
