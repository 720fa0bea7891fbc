using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Batches;

/// <summary>Fair scheduling: a big batch in one store does not starve a small attach in another.</summary>
public abstract class FairSchedulingContract<TFactory>
    where TFactory : QuiverFactory, new()
{
    [Fact]
    public async Task A_single_attach_in_another_store_overtakes_a_big_queued_batch()
    {
        await using var factory = new TFactory().With("Quiver:Ingestion:Workers", "1");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        factory.Embedder.Gate = gate;
        var tenantA = factory.NewUser();
        var tenantB = factory.NewUser();

        var bigIds = new string[200];
        await Parallel.ForAsync(0, bigIds.Length, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct }, async (i, _) =>
            bigIds[i] = (string)(await tenantA.UploadAsync("/v1", $"a{i}.txt", $"Store A document {i}."))["id"]!);
        var storeA = (string)(await tenantA.CreateStoreAsync("/v1"))["id"]!;
        var batchA = (string)(await tenantA.CreateBatchAsync(storeA, bigIds))["id"]!;

        // The only worker is now held on A's first file; B's file queues behind 199 of A's.
        await BatchTestKit.WaitUntilAsync(() => factory.Embedder.Calls >= 1, "the worker to start on store A");
        var fileB = (string)(await tenantB.UploadAsync("/v1", "b.txt", "Store B's only document."))["id"]!;
        var storeB = (string)(await tenantB.CreateStoreAsync("/v1"))["id"]!;
        await tenantB.AttachAsync("/v1", storeB, fileB);
        gate.SetResult();

        var done = await tenantB.WaitForFileAsync("/v1", storeB, fileB);
        Assert.Equal("completed", (string?)done["status"]);
        Assert.Equal(200, (await tenantA.GetBatchAsync(storeA, batchA)).Count("total"));

        // Scheduling order, read from the embedder (timing-independent): with one worker, B's only
        // file is the next job after the one A was already running, not the 201st.
        var order = factory.Embedder.FirstInputs.ToList();
        var positionOfB = order.FindIndex(text => text.Contains("Store B's only document", StringComparison.Ordinal));
        Assert.InRange(positionOfB, 1, 2);
    }
}

public sealed class FairSchedulingTests : FairSchedulingContract<QuiverFactory>;

/// <summary>The same contract on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class FairSchedulingPostgresTests : FairSchedulingContract<PostgresQuiverFactory>
{
    public FairSchedulingPostgresTests() => PostgresTestServer.RequireOrSkip();
}
