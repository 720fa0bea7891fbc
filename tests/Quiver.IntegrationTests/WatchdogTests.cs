using Microsoft.Extensions.DependencyInjection;
using Quiver.Core.Ingestion;
using Quiver.IntegrationTests.Infrastructure;
using Quiver.IntegrationTests.Ingestion;

namespace Quiver.IntegrationTests;

/// <summary>Work stuck past its deadline is failed by the watchdog with <c>server_error</c> (D5).</summary>
public abstract class WatchdogContract<TFactory> : IAsyncLifetime
    where TFactory : QuiverFactory, new()
{
    private readonly QuiverFactory _factory = new TFactory()
        .With("Quiver:Ingestion:JobTimeoutSeconds", "1")
        .With("Quiver:Ingestion:SweepIntervalSeconds", "1");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        _factory.Embedder.Gate?.TrySetResult();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task A_job_stuck_past_its_deadline_fails_with_server_error_and_publishes_nothing()
    {
        var client = _factory.CreateApiClient();
        var fileId = (string)(await client.UploadAsync("/v1", "stuck.txt", "this embedding never finishes"))["id"]!;
        _factory.Embedder.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var storeId = (string)(await client.CreateStoreAsync("/v1", "{\"file_ids\":[\"" + fileId + "\"]}"))["id"]!;

        var file = await client.WaitForFileAsync("/v1", storeId, fileId, timeoutSeconds: 30);
        Assert.Equal("failed", (string?)file["status"]);
        Assert.Equal("server_error", (string?)file["last_error"]!["code"]);

        // Even if the stuck call returns now, its result is fenced off: wait until the worker has let go of
        // the job (an observable end, not a sleep that passes when the work is merely slow), then count.
        _factory.Embedder.Gate.TrySetResult();
        var signals = _factory.Services.GetRequiredService<IngestionSignals>();
        await IngestionHelpers.EventuallyAsync(() => signals.RunningCount == 0, "the worker to let go of the failed job");
        Assert.Equal(0, await _factory.CountChunksAsync(storeId));
        var store = await client.GetJsonAsync($"/v1/vector_stores/{storeId}");
        Assert.Equal(1, store.Count("failed"));
        Assert.Equal(0, store.Count("in_progress"));
    }
}

public sealed class WatchdogTests : WatchdogContract<QuiverFactory>;

/// <summary>The same contract on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class WatchdogPostgresTests : WatchdogContract<PostgresQuiverFactory>
{
    public WatchdogPostgresTests() => PostgresTestServer.RequireOrSkip();
}
