using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Quiver.Core.Ingestion;
using Quiver.Core.Storage.Postgres;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Ingestion;

/// <summary>
/// The PostgreSQL cancel notifications, observed on a LISTEN connection of the test's own (as
/// another process would): every transaction that takes a running job away announces exactly
/// that claim, and a notification naming an older claim never stops a newer job of the file.
/// </summary>
public sealed class CancelNotificationPostgresTests
{
    public CancelNotificationPostgresTests() => PostgresTestServer.RequireOrSkip();

    public static TheoryData<string> Changes => new("batch cancel", "detach", "file delete", "store delete", "re-attach", "watchdog");

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task A_transaction_that_takes_a_running_job_away_notifies_that_claim_once(string change)
    {
        await using var factory = new PostgresQuiverFactory();
        factory.With("Quiver:Ingestion:Workers", "1");
        if (change == "watchdog")
        {
            factory.With("Quiver:Ingestion:JobTimeoutSeconds", "3").With("Quiver:Ingestion:SweepIntervalSeconds", "1");
        }

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        factory.Embedder.Gate = gate;
        try
        {
            var client = factory.NewUser();
            await using var heard = await NotificationRecorder.StartAsync(factory.ConnectionString!);
            var first = (string)(await client.UploadAsync("/v1", "first.txt", "First document about lighthouses."))["id"]!;
            var second = (string)(await client.UploadAsync("/v1", "second.txt", "Second document about harbours."))["id"]!;
            var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
            // Two files, one worker: one job runs, the other stays queued (and must not be announced).
            var batchId = (string)(await client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches",
                "{\"file_ids\":[\"" + first + "\",\"" + second + "\"]}"))["id"]!;
            await IngestionHelpers.EventuallyAsync(() => factory.Embedder.Calls > 0, "a job to reach the embedder");
            var running = await RunningJobAsync(factory, storeId);

            switch (change)
            {
                case "batch cancel":
                    await client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}/cancel", "");
                    break;
                case "detach":
                    await (await client.DeleteAsync($"/v1/vector_stores/{storeId}/files/{running.FileId}", Ct)).ReadJsonAsync(HttpStatusCode.OK);
                    break;
                case "file delete":
                    await (await client.DeleteAsync($"/v1/files/{running.FileId}", Ct)).ReadJsonAsync(HttpStatusCode.OK);
                    break;
                case "store delete":
                    await (await client.DeleteAsync($"/v1/vector_stores/{storeId}", Ct)).ReadJsonAsync(HttpStatusCode.OK);
                    break;
                case "re-attach":
                    await client.AttachAsync("/v1", storeId, running.FileId);
                    break;
                case "watchdog":
                    break; // the sweeper fails the job past its 3 s deadline
            }

            var claim = await heard.NextAsync(TimeSpan.FromSeconds(change == "watchdog" ? 15 : 5));
            Assert.Equal(new TakenClaim(storeId, running.FileId, running.JobId, running.Generation), claim);

            // Nothing else was announced (the queued job in particular): a marker sent now commits after the change
            // and notifications arrive in commit order, so it must be the very next one heard.
            await using (var connection = new NpgsqlConnection(factory.ConnectionString))
            {
                await connection.OpenAsync(Ct);
                await NotifyAsync(connection, null, EndMarker);
            }

            Assert.Equal(EndMarker, await heard.NextRawAsync(TimeSpan.FromSeconds(5)));
            Assert.Empty(heard.Remaining);
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task A_replayed_or_rolled_back_notification_leaves_the_re_attached_job_running()
    {
        await using var factory = new PostgresQuiverFactory();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        factory.Embedder.Gate = gate;
        try
        {
            var client = factory.NewUser();
            var signals = factory.Services.GetRequiredService<IngestionSignals>();
            var listener = factory.Services.GetRequiredService<PostgresCancelListener>();
            await IngestionHelpers.EventuallyAsync(() => listener.IsListening, "the cancel listener to listen");
            await using var heard = await NotificationRecorder.StartAsync(factory.ConnectionString!);

            var subject = (string)(await client.UploadAsync("/v1", "subject.txt", "The subject document is about tides."))["id"]!;
            var probe = (string)(await client.UploadAsync("/v1", "probe.txt", "The probe document is about reefs."))["id"]!;
            var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;

            // Cancel the subject mid-embedding and keep the notification that announced it.
            var batchId = (string)(await client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches", "{\"file_ids\":[\"" + subject + "\"]}"))["id"]!;
            await IngestionHelpers.EventuallyAsync(() => factory.Embedder.Calls == 1 && signals.RunningCount == 1, "the subject to reach the embedder");
            var old = await RunningJobAsync(factory, storeId, subject);
            await client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}/cancel", "");
            var announced = await heard.NextRawAsync(TimeSpan.FromSeconds(5));
            await IngestionHelpers.EventuallyAsync(() => signals.RunningCount == 0, "the cancelled job to stop");

            // Attach it again (a new job row: a larger id) and the probe; both run, held by the gate.
            await client.AttachAsync("/v1", storeId, subject);
            await client.AttachAsync("/v1", storeId, probe);
            await IngestionHelpers.EventuallyAsync(() => factory.Embedder.Calls == 3 && signals.RunningCount == 2, "both jobs to reach the embedder");
            var current = await RunningJobAsync(factory, storeId, subject);
            var probeJob = await RunningJobAsync(factory, storeId, probe);
            Assert.True(current.JobId > old.JobId);

            // In this order: the old announcement again, the current claim in a transaction that
            // rolls back (PostgreSQL drops it), then the probe's claim. Notifications arrive in
            // commit order, so once the probe has stopped the listener has seen the replay too.
            await using (var connection = new NpgsqlConnection(factory.ConnectionString))
            {
                await connection.OpenAsync(Ct);
                await NotifyAsync(connection, null, announced);
                await using (var transaction = await connection.BeginTransactionAsync(Ct))
                {
                    await NotifyAsync(connection, transaction, Payload(storeId, subject, current.JobId, current.Generation));
                    await transaction.RollbackAsync(Ct);
                }

                await NotifyAsync(connection, null, Payload(storeId, probe, probeJob.JobId, probeJob.Generation));
            }

            await IngestionHelpers.EventuallyAsync(() => signals.RunningCount == 1, "the probe to stop", timeoutSeconds: 5);

            // The subject's current job was left alone: released now, it completes.
            factory.Embedder.Gate = null;
            gate.TrySetResult();
            var file = await client.WaitForFileAsync("/v1", storeId, subject, timeoutSeconds: 30);
            Assert.Equal("completed", (string?)file["status"]);
            Assert.True(await factory.CountChunksAsync(storeId, subject) > 0);
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    /// <summary>A payload no server sends (it names no claim), marking the end of what a test listens for.</summary>
    private const string EndMarker = "test: end of the notifications under test";

    private static string Payload(string storeId, string fileId, long jobId, long generation) =>
        $$"""{"store" : "{{storeId}}", "file" : "{{fileId}}", "job" : {{jobId}}, "generation" : {{generation}}}""";

    private static async Task NotifyAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string payload)
    {
        await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection, transaction);
        command.Parameters.AddWithValue("channel", PostgresCancelNotifications.Channel);
        command.Parameters.AddWithValue("payload", payload);
        await command.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>The running job of a store (optionally of one file), as the database has it.</summary>
    private static async Task<TakenClaim> RunningJobAsync(PostgresQuiverFactory factory, string storeId, string? fileId = null)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(
            "SELECT file_id, id, generation FROM ingestion_jobs WHERE vector_store_id = @store AND state = 'running'" +
            (fileId is null ? "" : " AND file_id = @file"), connection);
        command.Parameters.AddWithValue("store", storeId);
        command.Parameters.AddWithValue("file", (object?)fileId ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct), "no running job");
        var job = new TakenClaim(storeId, reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
        Assert.False(await reader.ReadAsync(Ct), "more than one running job");
        return job;
    }

    /// <summary>A LISTEN connection on the cancel channel that keeps what it hears.</summary>
    private sealed class NotificationRecorder : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<string> _payloads = new();
        private Task _loop = Task.CompletedTask;

        private NotificationRecorder(NpgsqlConnection connection) => _connection = connection;

        public static async Task<NotificationRecorder> StartAsync(string connectionString)
        {
            var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(Ct);
            var recorder = new NotificationRecorder(connection);
            connection.Notification += (_, e) => recorder._payloads.Enqueue(e.Payload);
            await using (var listen = new NpgsqlCommand($"LISTEN {PostgresCancelNotifications.Channel}", connection))
            {
                await listen.ExecuteNonQueryAsync(Ct);
            }

            recorder._loop = recorder.LoopAsync();
            return recorder;
        }

        public IReadOnlyCollection<string> Remaining => _payloads;

        public async Task<string> NextRawAsync(TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            string? payload;
            while (!_payloads.TryDequeue(out payload))
            {
                Assert.True(DateTime.UtcNow < deadline, $"No notification within {timeout.TotalSeconds} s.");
                await Task.Delay(10, Ct);
            }

            return payload;
        }

        public async Task<TakenClaim?> NextAsync(TimeSpan timeout) => PostgresCancelNotifications.Parse(await NextRawAsync(timeout));

        private async Task LoopAsync()
        {
            try
            {
                while (true)
                {
                    await _connection.WaitAsync(_stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            await _connection.DisposeAsync();
            _stop.Dispose();
        }
    }
}
