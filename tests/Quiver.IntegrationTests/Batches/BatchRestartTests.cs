using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Batches;

/// <summary>Durability (D5, D6): a restart resumes unfinished members; cancelled ones stay cancelled.</summary>
public abstract class BatchRestartContract<TFactory>
    where TFactory : QuiverFactory, new()
{
    [Fact]
    public async Task A_restart_resumes_unfinished_members_and_keeps_cancelled_ones()
    {
        var user = "user-" + Guid.NewGuid().ToString("N");
        string storeId, runningId, cancelledId;
        string[] running, cancelledFiles;
        string cancelResponse, storeCountsBefore;
        long completedBefore;
        // A lease longer than the wait below: the held jobs resume because the stop hands them back, not because it ran out.
        var factory = new TFactory();
        factory.With("Quiver:Ingestion:LeaseSeconds", "600");
        var reopened = factory.Reopen();
        await using (factory)
        {
            var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            factory.Embedder.Gate = first;
            var client = factory.CreateApiClient(onBehalfOf: user);
            var ids = await client.UploadManyAsync(8);
            cancelledFiles = ids[..4];
            running = ids[4..];
            storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;

            // A batch cancelled while its work is held: it must stay cancelled across the restart.
            cancelledId = (string)(await client.CreateBatchAsync(storeId, cancelledFiles))["id"]!;
            cancelResponse = (await client.CancelAsync(storeId, cancelledId)).ToJsonString();
            await factory.WaitForIdleWorkersAsync();
            var callsBefore = factory.Embedder.Calls;

            // A batch with two members completed and two held mid-embedding when the host stops.
            runningId = (string)(await client.CreateBatchAsync(storeId, running))["id"]!;
            await BatchTestKit.WaitUntilAsync(() => factory.Embedder.Calls >= callsBefore + 2, "two embedding calls");
            factory.Embedder.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            first.SetResult();
            await BatchTestKit.WaitUntilAsync(async () => (await client.GetBatchAsync(storeId, runningId)).Count("completed") == 2, "two completed members");
            await BatchTestKit.WaitUntilAsync(() => factory.Embedder.Calls >= callsBefore + 4, "two more embedding calls");

            var batch = await client.GetBatchAsync(storeId, runningId);
            Assert.Equal("""{"in_progress":2,"completed":2,"failed":0,"cancelled":0,"total":4}""", batch["file_counts"]!.ToJsonString());
            completedBefore = batch.Count("completed");
            storeCountsBefore = (await client.GetJsonAsync($"/v1/vector_stores/{storeId}"))["file_counts"]!.ToJsonString();
            Assert.Equal("""{"in_progress":2,"completed":2,"failed":0,"cancelled":4,"total":8}""", storeCountsBefore);
            // Dispose without draining: the held embeddings are interrupted by the shutdown.
        }

        await using var restarted = reopened;
        var again = restarted.CreateApiClient(onBehalfOf: user);

        // Counts are derived from rows: the cancelled batch reads exactly as its cancel answer did.
        Assert.Equal(cancelResponse, (await again.GetBatchAsync(storeId, cancelledId)).ToJsonString());
        var resumed = await again.WaitForBatchAsync("/v1", storeId, runningId);
        Assert.Equal("completed", (string?)resumed["status"]);
        Assert.Equal("""{"in_progress":0,"completed":4,"failed":0,"cancelled":0,"total":4}""", resumed["file_counts"]!.ToJsonString());
        Assert.True(resumed.Count("completed") >= completedBefore);
        Assert.Equal(cancelResponse, (await again.GetBatchAsync(storeId, cancelledId)).ToJsonString());

        await restarted.WaitForIdleWorkersAsync();
        var store = await again.GetJsonAsync($"/v1/vector_stores/{storeId}");
        Assert.Equal("""{"in_progress":0,"completed":4,"failed":0,"cancelled":4,"total":8}""", store["file_counts"]!.ToJsonString());
        foreach (var id in cancelledFiles)
        {
            Assert.Equal("cancelled", (string?)(await again.GetJsonAsync($"/v1/vector_stores/{storeId}/files/{id}"))["status"]);
            Assert.Equal(0, await restarted.CountChunksAsync(storeId, id));
            Assert.Equal(0, await restarted.CountFtsRowsAsync(storeId, id));
        }

        await restarted.AssertConsistentAsync(again, storeId, runningId);
        await restarted.AssertConsistentAsync(again, storeId, cancelledId);
        Assert.Equal(0, await restarted.CountJobsAsync(storeId));
    }

    [Fact]
    public async Task A_graceful_stop_hands_interrupted_jobs_back_without_counting_the_attempt()
    {
        var user = "user-" + Guid.NewGuid().ToString("N");
        string storeId;
        var factory = new TFactory();
        factory.With("Quiver:Ingestion:LeaseSeconds", "600");
        var reopened = factory.Reopen();
        await using (factory)
        {
            factory.Embedder.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var client = factory.CreateApiClient(onBehalfOf: user);
            var ids = await client.UploadManyAsync(2);
            storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
            await client.CreateBatchAsync(storeId, ids);
            await BatchTestKit.WaitUntilAsync(() => factory.Embedder.Calls >= 2, "both jobs held mid-embedding");
        }

        // Held again after the restart, so the claims can be read while they run.
        await using var restarted = reopened;
        restarted.Embedder.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var again = restarted.CreateApiClient(onBehalfOf: user);
        await BatchTestKit.WaitUntilAsync(() => restarted.Embedder.Calls >= 2, "both jobs claimed again well inside their old 600 s lease");
        Assert.Equal(2, await restarted.ScalarAsync(
            "SELECT COUNT(*) FROM ingestion_jobs WHERE vector_store_id = @s AND state = 'running' AND attempts = 1", ("@s", storeId)));
        restarted.Embedder.Gate.SetResult();
        await BatchTestKit.WaitUntilAsync(async () => (await again.GetJsonAsync($"/v1/vector_stores/{storeId}"))["file_counts"]!["completed"]!.GetValue<long>() == 2, "both files completed");
    }

    [Fact]
    public async Task A_restart_after_cancel_before_any_claim_starts_nothing()
    {
        var user = "user-" + Guid.NewGuid().ToString("N");
        string storeId, batchId, cancelResponse;
        var factory = new TFactory();
        var reopened = factory.Reopen();
        await using (factory)
        {
            factory.Embedder.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var client = factory.CreateApiClient(onBehalfOf: user);
            var ids = await client.UploadManyAsync(6);
            storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
            batchId = (string)(await client.CreateBatchAsync(storeId, ids))["id"]!;
            await BatchTestKit.WaitUntilAsync(() => factory.Embedder.Calls >= 2, "two embedding calls");
            cancelResponse = (await client.CancelAsync(storeId, batchId)).ToJsonString();
            Assert.Contains("\"in_progress\":0", cancelResponse);
            Assert.Contains("\"cancelled\":6", cancelResponse);
        }

        await using var restarted = reopened;
        var again = restarted.CreateApiClient(onBehalfOf: user);
        Assert.Equal(cancelResponse, (await again.GetBatchAsync(storeId, batchId)).ToJsonString());
        Assert.Equal(0, await restarted.CountJobsAsync(storeId));
        await restarted.WaitForIdleWorkersAsync();
        Assert.Equal(0, restarted.Embedder.Calls);
        Assert.Equal(0, await restarted.CountChunksAsync(storeId));
        await restarted.AssertConsistentAsync(again, storeId, batchId);
    }
}

public sealed class BatchRestartTests : BatchRestartContract<QuiverFactory>;

/// <summary>The same restart contract on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class BatchRestartPostgresTests : BatchRestartContract<PostgresQuiverFactory>
{
    public BatchRestartPostgresTests() => PostgresTestServer.RequireOrSkip();
}
