using Quiver.Core.Ingestion;
using Quiver.Core.Storage.Postgres;
using Quiver.Core.VectorStores;

namespace Quiver.Tests.Ingestion;

/// <summary>
/// Which running jobs a cross-process cancel stops: only claims no newer than the one named,
/// so a late or replayed signal never stops a re-attached file's new job.
/// </summary>
public sealed class IngestionSignalsTests
{
    private static ClaimedJob Job(string file, long jobId, long generation) =>
        new(jobId, "owner", "vs_1", file, generation, 1, file + ".txt", "test:model", 200, 50);

    [Fact]
    public void A_signal_for_the_running_claim_or_a_later_one_stops_it()
    {
        var signals = new IngestionSignals();
        var exact = signals.Register(Job("file-a", 7, 3), CancellationToken.None);
        var olderGeneration = signals.Register(Job("file-b", 7, 2), CancellationToken.None);
        var olderJob = signals.Register(Job("file-c", 5, 9), CancellationToken.None);

        Assert.True(signals.CancelStale("vs_1", "file-a", 7, 3));
        Assert.True(signals.CancelStale("vs_1", "file-b", 7, 3));
        Assert.True(signals.CancelStale("vs_1", "file-c", 6, 1));
        Assert.True(exact.IsCancellationRequested);
        Assert.True(olderGeneration.IsCancellationRequested);
        Assert.True(olderJob.IsCancellationRequested);

        // Already stopped: nothing more to do.
        Assert.False(signals.CancelStale("vs_1", "file-a", 7, 3));
    }

    [Fact]
    public void A_signal_for_an_older_claim_leaves_a_newer_job_of_the_same_file_running()
    {
        var signals = new IngestionSignals();
        // Re-attached while in progress: same job row, generation bumped.
        var reattached = signals.Register(Job("file-a", 7, 4), CancellationToken.None);
        // Detached then attached again: a new job row (larger id), generation restarted at 1.
        var recreated = signals.Register(Job("file-b", 12, 1), CancellationToken.None);

        Assert.False(signals.CancelStale("vs_1", "file-a", 7, 3));
        Assert.False(signals.CancelStale("vs_1", "file-b", 11, 6));
        Assert.False(reattached.IsCancellationRequested);
        Assert.False(recreated.IsCancellationRequested);
    }

    [Fact]
    public void A_signal_names_one_store_and_file()
    {
        var signals = new IngestionSignals();
        var job = signals.Register(Job("file-a", 7, 3), CancellationToken.None);

        Assert.False(signals.CancelStale("vs_2", "file-a", 7, 3));
        Assert.False(signals.CancelStale("vs_1", "file-b", 7, 3));
        Assert.False(job.IsCancellationRequested);
    }

    [Fact]
    public void Two_claims_of_one_file_running_here_stay_separately_cancellable()
    {
        var signals = new IngestionSignals();
        var old = signals.Register(Job("file-a", 7, 3), CancellationToken.None);
        var current = signals.Register(Job("file-a", 7, 4), CancellationToken.None);
        Assert.Equal(2, signals.RunningCount);

        Assert.True(signals.CancelStale("vs_1", "file-a", 7, 3));
        Assert.True(old.IsCancellationRequested);
        Assert.False(current.IsCancellationRequested);

        signals.Unregister(old);
        Assert.Equal(1, signals.RunningCount);
        signals.CancelRunning("vs_1", "file-a");
        Assert.True(current.IsCancellationRequested);
    }

    [Fact]
    public void A_finished_job_is_not_signalled()
    {
        var signals = new IngestionSignals();
        var job = signals.Register(Job("file-a", 7, 3), CancellationToken.None);
        signals.Unregister(job);
        job.Dispose();

        Assert.False(signals.CancelStale("vs_1", "file-a", 7, 3));
        signals.CancelRunning("vs_1", "file-a");
        Assert.Equal(0, signals.RunningCount);
    }

    [Fact]
    public void The_listener_connection_is_unpooled_with_a_keepalive_and_keeps_what_the_operator_set()
    {
        var defaults = new Npgsql.NpgsqlConnectionStringBuilder(
            PostgresCancelListener.ListenerConnectionString("Host=db;Database=quiver;Username=q;Maximum Pool Size=50"));
        Assert.False(defaults.Pooling);
        Assert.True(defaults.KeepAlive > 0);
        Assert.Equal("quiver-cancel-listener", defaults.ApplicationName);
        Assert.Equal("db", defaults.Host);

        var configured = new Npgsql.NpgsqlConnectionStringBuilder(
            PostgresCancelListener.ListenerConnectionString("Host=db;Keepalive=5;Application Name=ops;Multiplexing=true"));
        Assert.Equal(5, configured.KeepAlive);
        Assert.Equal("ops", configured.ApplicationName);
        Assert.False(configured.Multiplexing);
    }

    [Fact]
    public void The_notification_payload_round_trips_and_foreign_payloads_are_ignored()
    {
        // What json_build_object(...)::text produces.
        var claim = PostgresCancelNotifications.Parse("""{"store" : "vs_abc", "file" : "file-xyz", "job" : 42, "generation" : 3}""");
        Assert.Equal(new TakenClaim("vs_abc", "file-xyz", 42, 3), claim);

        Assert.Null(PostgresCancelNotifications.Parse("not json"));
        Assert.Null(PostgresCancelNotifications.Parse("""{"store" : "vs_abc"}"""));
        Assert.Null(PostgresCancelNotifications.Parse("""{"store" : 1, "file" : "f", "job" : 1, "generation" : 1}"""));
        Assert.Null(PostgresCancelNotifications.Parse("[]"));
    }
}
