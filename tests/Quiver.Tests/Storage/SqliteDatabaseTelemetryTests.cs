using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Quiver.Core.Storage.Sqlite;
using Quiver.Core.Telemetry;

namespace Quiver.Tests.Storage;

/// <summary>
/// The embedded backend's storage instruments: connections open through <see cref="SqliteDatabase.OpenAsync"/>
/// until they are disposed, writers waiting for the writer lock, and their wait. The counts are process-wide, so
/// the class runs alone (after the parallel tests) and asserts differences from its own start.
/// </summary>
[Collection(SqliteTelemetryCollection.Name)]
public sealed class SqliteDatabaseTelemetryTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "quiver-unit", Guid.NewGuid().ToString("N"));
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _gauges = new();
    private readonly ConcurrentQueue<(double Seconds, object? Backend)> _waits = new();

    public SqliteDatabaseTelemetryTests()
    {
        Directory.CreateDirectory(_dir);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == QuiverTelemetry.Name && instrument.Name.StartsWith("quiver.storage.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            Assert.Equal("sqlite", Backend(tags));
            _gauges[instrument.Name] = value;
        });
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "quiver.storage.write.wait.duration")
            {
                _waits.Enqueue((value, Backend(tags)));
            }
        });
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static object? Backend(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "backend")
            {
                return tag.Value;
            }
        }

        return null;
    }

    private long Gauge(string name)
    {
        _listener.RecordObservableInstruments();
        return _gauges[name];
    }

    [Fact]
    public async Task Open_connections_count_until_disposed_even_when_the_pool_keeps_them()
    {
        var database = new SqliteDatabase(Path.Combine(_dir, "q.db"));
        var before = Gauge("quiver.storage.connections.open");

        var first = await database.OpenAsync(Ct);
        var second = await database.OpenAsync(Ct);
        Assert.Equal(before + 2, Gauge("quiver.storage.connections.open"));

        await first.DisposeAsync();
        Assert.Equal(before + 1, Gauge("quiver.storage.connections.open"));
        second.Close(); // a close counts as well, and a later dispose does not count twice
        await second.DisposeAsync();
        Assert.Equal(before, Gauge("quiver.storage.connections.open"));

        // Reused from the pool: counted again while open.
        await using (await database.OpenAsync(Ct))
        {
            Assert.Equal(before + 1, Gauge("quiver.storage.connections.open"));
        }

        Assert.Equal(before, Gauge("quiver.storage.connections.open"));
    }

    /// <summary>Starts a write that holds the writer lock until <c>release</c> is completed; returns once it holds it.</summary>
    private static async Task<(Task Holder, TaskCompletionSource Release)> HoldTheWriterAsync(SqliteDatabase database)
    {
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = database.WriteAsync(async (_, _) =>
        {
            inside.SetResult();
            await release.Task;
        }, Ct);
        await inside.Task;
        return (holder, release);
    }

    [Fact]
    public async Task A_writer_behind_another_counts_as_waiting_and_records_its_wait()
    {
        var database = new SqliteDatabase(Path.Combine(_dir, "q.db"));
        var waitingBefore = Gauge("quiver.storage.write.waiting");
        var (holder, release) = await HoldTheWriterAsync(database);
        var queued = database.WriteAsync((_, _) => Task.CompletedTask, Ct);
        Assert.Equal(waitingBefore + 1, Gauge("quiver.storage.write.waiting"));

        await Task.Delay(50, Ct);
        release.SetResult();
        await holder;
        await queued;

        Assert.Equal(waitingBefore, Gauge("quiver.storage.write.waiting"));
        var waits = _waits.ToArray();
        Assert.Equal(2, waits.Length);
        Assert.All(waits, w => Assert.Equal("sqlite", w.Backend));
        Assert.True(waits.Max(w => w.Seconds) >= 0.04, $"the queued writer waited {waits.Max(w => w.Seconds)} s");
    }

    [Fact]
    public async Task A_writer_cancelled_while_waiting_stops_counting_as_waiting()
    {
        var database = new SqliteDatabase(Path.Combine(_dir, "q.db"));
        var waitingBefore = Gauge("quiver.storage.write.waiting");
        var (holder, release) = await HoldTheWriterAsync(database);
        using var cancel = new CancellationTokenSource();
        var queued = database.WriteAsync((_, _) => Task.CompletedTask, cancel.Token);
        Assert.Equal(waitingBefore + 1, Gauge("quiver.storage.write.waiting"));

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.Equal(waitingBefore, Gauge("quiver.storage.write.waiting"));
        release.SetResult();
        await holder;
    }
}

/// <summary>Tests that read the process-wide storage counts run after the parallel tests, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SqliteTelemetryCollection
{
    public const string Name = "sqlite-telemetry";
}
