using OpenAI.VectorStores;
using Quiver.SdkTests.Infrastructure;
using static Quiver.SdkTests.Infrastructure.Sdk;

namespace Quiver.SdkTests;

/// <summary>Cancelling a running batch through the SDK (its own server, so holding ingestion blocks nobody else).</summary>
public sealed class CancelBatchTests(LiveQuiver quiver) : IClassFixture<LiveQuiver>
{
    [Fact]
    public async Task Cancel_a_running_batch_then_list_its_cancelled_files()
    {
        var files = quiver.Files();
        var stores = quiver.VectorStores();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await files.UploadTextAsync($"doc{i}.txt", $"Document number {i} about rivers and lakes.")).Id);
        }

        var store = (await stores.CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "to cancel" }, Ct)).Value;
        quiver.Embedder.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var batch = (await stores.AddFileBatchToVectorStoreAsync(store.Id, ids, Ct)).Value;
            Assert.Equal(VectorStoreFileBatchStatus.InProgress, batch.Status);
            var running = (await stores.GetVectorStoreAsync(store.Id, Ct)).Value;
            Assert.Equal(VectorStoreStatus.InProgress, running.Status);
            Assert.Equal(4, running.FileCounts.InProgress);

            var cancelled = (await stores.CancelVectorStoreFileBatchAsync(store.Id, batch.BatchId, Ct)).Value;
            Assert.Equal(VectorStoreFileBatchStatus.Cancelled, cancelled.Status);
            Assert.Equal(0, cancelled.FileCounts.InProgress);
            Assert.Equal(4, cancelled.FileCounts.Cancelled);
            Assert.Equal(4, cancelled.FileCounts.Total);

            // Cancelling again answers the same cancelled batch.
            var again = (await stores.CancelVectorStoreFileBatchAsync(store.Id, batch.BatchId, Ct)).Value;
            Assert.Equal(VectorStoreFileBatchStatus.Cancelled, again.Status);

            var polled = await stores.WaitForBatchAsync(store.Id, batch.BatchId);
            Assert.Equal(VectorStoreFileBatchStatus.Cancelled, polled.Status);

            var cancelledFiles = await stores.GetVectorStoreFilesInBatchAsync(store.Id, batch.BatchId,
                new VectorStoreFileCollectionOptions { Filter = VectorStoreFileStatusFilter.Cancelled }, Ct).ToListAsync();
            Assert.Equal(ids.Order(), cancelledFiles.Select(f => f.FileId).Order());
            Assert.All(cancelledFiles, f => Assert.Equal(VectorStoreFileStatus.Cancelled, f.Status));
            var inProgress = await stores.GetVectorStoreFilesInBatchAsync(store.Id, batch.BatchId,
                new VectorStoreFileCollectionOptions { Filter = VectorStoreFileStatusFilter.InProgress }, Ct).ToListAsync();
            Assert.Empty(inProgress);

            var after = (await stores.GetVectorStoreAsync(store.Id, Ct)).Value;
            Assert.Equal(VectorStoreStatus.Completed, after.Status);
            Assert.Equal(4, after.FileCounts.Cancelled);
            Assert.Equal(0, after.UsageBytes);
        }
        finally
        {
            quiver.Embedder.Gate.TrySetResult();
        }

        // Released embeddings of cancelled files are never published.
        var search = (await stores.SearchVectorStoreAsync(store.Id, JsonBody(new { query = "rivers and lakes" }), null)).Json();
        Assert.Equal(0, search.GetProperty("data").GetArrayLength());
        await stores.DeleteVectorStoreAsync(store.Id, Ct);
    }
}
