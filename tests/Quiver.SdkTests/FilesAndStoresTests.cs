using System.ClientModel;
using OpenAI.Files;
using OpenAI.VectorStores;
using Quiver.SdkTests.Infrastructure;
using static Quiver.SdkTests.Infrastructure.Sdk;

namespace Quiver.SdkTests;

/// <summary>The OpenAI .NET SDK's files and vector store calls against a live Quiver, unchanged.</summary>
public sealed class FilesAndStoresTests(LiveQuiver quiver) : IClassFixture<LiveQuiver>
{
    [Fact]
    public async Task Files_upload_get_list_download_delete()
    {
        var files = quiver.Files();
        var uploaded = await files.UploadTextAsync("notes.txt", "hello from the dotnet sdk");
        Assert.StartsWith("file-", uploaded.Id);
        Assert.Equal("notes.txt", uploaded.Filename);
        Assert.Equal(FilePurpose.Assistants, uploaded.Purpose);
#pragma warning disable CS0618 // deprecated, but still a closed enum the SDK parses on every file
        Assert.Equal(FileStatus.Processed, uploaded.Status);
#pragma warning restore CS0618
        Assert.Equal(25, uploaded.SizeInBytesLong);
        Assert.Equal(25, uploaded.SizeInBytes);
        Assert.InRange(uploaded.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));

        var fetched = (await files.GetFileAsync(uploaded.Id, Ct)).Value;
        Assert.Equal(uploaded.Id, fetched.Id);
        Assert.Equal(uploaded.CreatedAt, fetched.CreatedAt);

        var all = (await files.GetFilesAsync(Ct)).Value;
        Assert.Contains(all, f => f.Id == uploaded.Id);
        var assistants = (await files.GetFilesAsync(FilePurpose.Assistants, Ct)).Value;
        Assert.Contains(assistants, f => f.Id == uploaded.Id);
        var userData = (await files.GetFilesAsync(FilePurpose.UserData, Ct)).Value;
        Assert.DoesNotContain(userData, f => f.Id == uploaded.Id);

        var bytes = (await files.DownloadFileAsync(uploaded.Id, Ct)).Value;
        Assert.Equal("hello from the dotnet sdk", bytes.ToString());

        var deleted = (await files.DeleteFileAsync(uploaded.Id, Ct)).Value;
        Assert.True(deleted.Deleted);
        Assert.Equal(uploaded.Id, deleted.FileId);

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => files.GetFileAsync(uploaded.Id, Ct));
        Assert.Equal(404, missing.Status);
    }

    [Fact]
    public async Task Files_with_every_upload_purpose_read_back_through_the_closed_purpose_enum()
    {
        var files = quiver.Files();
        foreach (var (purpose, expected) in new[]
        {
            (FileUploadPurpose.Assistants, FilePurpose.Assistants),
            (FileUploadPurpose.UserData, FilePurpose.UserData),
            (FileUploadPurpose.Vision, FilePurpose.Vision),
            (FileUploadPurpose.Batch, FilePurpose.Batch),
            (FileUploadPurpose.FineTune, FilePurpose.FineTune),
        })
        {
            var file = (await files.UploadFileAsync(BinaryData.FromString("{\"a\":1}\n"), "data.jsonl", purpose)).Value;
            Assert.Equal(expected, file.Purpose);
            Assert.Equal(expected, (await files.GetFileAsync(file.Id, Ct)).Value.Purpose);
            await files.DeleteFileAsync(file.Id, Ct);
        }
    }

    [Fact]
    public async Task Store_create_get_modify_list_delete()
    {
        var stores = quiver.VectorStores();
        var options = new VectorStoreCreationOptions
        {
            Name = "sdk store",
            ExpirationPolicy = new VectorStoreExpirationPolicy(VectorStoreExpirationAnchor.LastActiveAt, 7),
        };
        options.Metadata["team"] = "search";
        var store = (await stores.CreateVectorStoreAsync(options, Ct)).Value;
        Assert.StartsWith("vs_", store.Id);
        Assert.Equal("sdk store", store.Name);
        Assert.Equal(VectorStoreStatus.Completed, store.Status);
        Assert.Equal(0, store.FileCounts.Total);
        Assert.Equal(0, store.UsageBytes);
        Assert.Equal("search", store.Metadata["team"]);
        Assert.Equal(7, store.ExpirationPolicy.Days);
        Assert.Equal(VectorStoreExpirationAnchor.LastActiveAt, store.ExpirationPolicy.Anchor);
        Assert.NotNull(store.ExpiresAt);
        Assert.NotNull(store.LastActiveAt);

        Assert.Equal(store.Id, (await stores.GetVectorStoreAsync(store.Id, Ct)).Value.Id);

        var modification = new VectorStoreModificationOptions { Name = "renamed" };
        modification.Metadata["team"] = "ranking";
        var modified = (await stores.ModifyVectorStoreAsync(store.Id, modification, Ct)).Value;
        Assert.Equal("renamed", modified.Name);
        Assert.Equal("ranking", modified.Metadata["team"]);

        var second = (await stores.CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "second" }, Ct)).Value;

        // Page size 1 makes the SDK follow the `after` cursor through has_more/last_id.
        var listed = await stores.GetVectorStoresAsync(new VectorStoreCollectionOptions { PageSizeLimit = 1, Order = VectorStoreCollectionOrder.Ascending }, Ct).ToListAsync();
        var ids = listed.Select(s => s.Id).ToList();
        Assert.Contains(store.Id, ids);
        Assert.Contains(second.Id, ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(listed.OrderBy(s => s.CreatedAt).Select(s => s.Id), listed.Select(s => s.Id)); // ascending (ties by id)

        var deleted = (await stores.DeleteVectorStoreAsync(store.Id, Ct)).Value;
        Assert.True(deleted.Deleted);
        Assert.Equal(store.Id, deleted.VectorStoreId);
        await stores.DeleteVectorStoreAsync(second.Id, Ct);

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => stores.GetVectorStoreAsync(store.Id, Ct));
        Assert.Equal(404, missing.Status);
    }

    [Fact]
    public async Task Store_created_with_file_ids_indexes_them()
    {
        var files = quiver.Files();
        var stores = quiver.VectorStores();
        var file = await files.UploadTextAsync("seed.md", "# Seeds\n\nApple seeds are planted in spring.");
        var options = new VectorStoreCreationOptions { Name = "seeded" };
        options.FileIds.Add(file.Id);
        var store = (await stores.CreateVectorStoreAsync(options, Ct)).Value;
        Assert.Equal(1, store.FileCounts.Total);

        var attached = await stores.WaitForFileAsync(store.Id, file.Id);
        Assert.Equal(VectorStoreFileStatus.Completed, attached.Status);
        var completed = (await stores.GetVectorStoreAsync(store.Id, Ct)).Value;
        Assert.Equal(VectorStoreStatus.Completed, completed.Status);
        Assert.Equal(1, completed.FileCounts.Completed);
        Assert.True(completed.UsageBytes > 0);

        await stores.DeleteVectorStoreAsync(store.Id, Ct);
        await files.DeleteFileAsync(file.Id, Ct);
    }

    [Fact]
    public async Task Batch_poll_list_update_search_content_detach()
    {
        var files = quiver.Files();
        var stores = quiver.VectorStores();
        var apples = await files.UploadTextAsync("apples.md", "# Apples\n\nApple orchards bloom in spring. Apples keep well in cold storage.");
        var pears = await files.UploadTextAsync("pears.md", "# Pears\n\nPear trees need cross pollination. Pears ripen off the tree.");
        var plums = await files.UploadTextAsync("plums.txt", "Plums are stone fruit. Dried plums are prunes.");
        var store = (await stores.CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "fruit" }, Ct)).Value;

        var batch = (await stores.AddFileBatchToVectorStoreAsync(store.Id, [apples.Id, pears.Id, plums.Id], Ct)).Value;
        Assert.StartsWith("vsfb_", batch.BatchId);
        Assert.Equal(store.Id, batch.VectorStoreId);
        Assert.Equal(3, batch.FileCounts.Total);

        var done = await stores.WaitForBatchAsync(store.Id, batch.BatchId);
        Assert.Equal(VectorStoreFileBatchStatus.Completed, done.Status);
        Assert.Equal(3, done.FileCounts.Completed);
        Assert.Equal(0, done.FileCounts.InProgress);

        var inBatch = await stores.GetVectorStoreFilesInBatchAsync(store.Id, batch.BatchId,
            new VectorStoreFileCollectionOptions { Filter = VectorStoreFileStatusFilter.Completed, PageSizeLimit = 2 }, Ct).ToListAsync();
        Assert.Equal(new[] { apples.Id, pears.Id, plums.Id }.Order(), inBatch.Select(f => f.FileId).Order());
        Assert.All(inBatch, f => Assert.Equal(VectorStoreFileStatus.Completed, f.Status));
        Assert.All(inBatch, f => Assert.True(f.UsageInBytes > 0));
        var failedInBatch = await stores.GetVectorStoreFilesInBatchAsync(store.Id, batch.BatchId,
            new VectorStoreFileCollectionOptions { Filter = VectorStoreFileStatusFilter.Failed }, Ct).ToListAsync();
        Assert.Empty(failedInBatch);

        var storeFiles = await stores.GetVectorStoreFilesAsync(store.Id,
            new VectorStoreFileCollectionOptions { Filter = VectorStoreFileStatusFilter.Completed, Order = VectorStoreFileCollectionOrder.Descending }, Ct).ToListAsync();
        Assert.Equal(3, storeFiles.Count);

        var one = (await stores.GetVectorStoreFileAsync(store.Id, apples.Id, Ct)).Value;
        Assert.Equal(apples.Id, one.FileId);
        Assert.Equal(store.Id, one.VectorStoreId);
        Assert.Null(one.LastError);
        Assert.IsType<StaticFileChunkingStrategy>(one.ChunkingStrategy, exactMatch: false);

        var updated = (await stores.UpdateVectorStoreFileAttributesAsync(store.Id, apples.Id, new Dictionary<string, BinaryData>
        {
            ["kind"] = BinaryData.FromObjectAsJson("pome"),
            ["year"] = BinaryData.FromObjectAsJson(2024),
            ["organic"] = BinaryData.FromObjectAsJson(true),
        }, Ct)).Value;
        Assert.Equal("\"pome\"", updated.Attributes["kind"].ToString());
        Assert.Equal(2024, updated.Attributes["year"].ToObjectFromJson<int>());
        Assert.True(updated.Attributes["organic"].ToObjectFromJson<bool>());

        // Search is a protocol method in 2.15.0: JSON in, JSON out.
        var search = (await stores.SearchVectorStoreAsync(store.Id, JsonBody(new
        {
            query = "apple orchards",
            max_num_results = 5,
            filters = new { type = "eq", key = "kind", value = "pome" },
        }), new System.ClientModel.Primitives.RequestOptions { CancellationToken = Ct })).Json();
        Assert.Equal("vector_store.search_results.page", search.GetProperty("object").GetString());
        var hits = search.GetProperty("data").EnumerateArray().ToList();
        Assert.NotEmpty(hits);
        Assert.All(hits, hit => Assert.Equal(apples.Id, hit.GetProperty("file_id").GetString()));
        Assert.Equal("apples.md", hits[0].GetProperty("filename").GetString());
        Assert.Equal("pome", hits[0].GetProperty("attributes").GetProperty("kind").GetString());
        Assert.InRange(hits[0].GetProperty("score").GetDouble(), 0, 1);
        Assert.Contains("Apple", hits[0].GetProperty("content")[0].GetProperty("text").GetString());

        var unfiltered = (await stores.SearchVectorStoreAsync(store.Id, JsonBody(new { query = "prunes" }), null)).Json();
        Assert.Equal(plums.Id, unfiltered.GetProperty("data")[0].GetProperty("file_id").GetString());

        var content = (await stores.RetrieveVectorStoreFileContentAsync(store.Id, plums.Id, null)).Json();
        Assert.Equal("vector_store.file_content.page", content.GetProperty("object").GetString());
        var text = string.Concat(content.GetProperty("data").EnumerateArray().Select(p => p.GetProperty("text").GetString()));
        Assert.Contains("Dried plums are prunes.", text);

        var removed = (await stores.RemoveFileFromVectorStoreAsync(store.Id, pears.Id, Ct)).Value;
        Assert.True(removed.Removed);
        Assert.Equal(pears.Id, removed.FileId);
        var afterRemove = (await stores.GetVectorStoreAsync(store.Id, Ct)).Value;
        Assert.Equal(2, afterRemove.FileCounts.Total);

        var reattached = (await stores.AddFileToVectorStoreAsync(store.Id, pears.Id, Ct)).Value;
        Assert.Equal(pears.Id, reattached.FileId);
        Assert.Equal(VectorStoreFileStatus.Completed, (await stores.WaitForFileAsync(store.Id, pears.Id)).Status);

        // Deleting a File detaches it from the store.
        await files.DeleteFileAsync(plums.Id, Ct);
        var afterDelete = (await stores.GetVectorStoreAsync(store.Id, Ct)).Value;
        Assert.Equal(2, afterDelete.FileCounts.Total);

        Assert.True((await stores.DeleteVectorStoreAsync(store.Id, Ct)).Value.Deleted);
        await files.DeleteFileAsync(apples.Id, Ct);
        await files.DeleteFileAsync(pears.Id, Ct);
    }

    [Fact]
    public async Task Unsupported_file_fails_with_last_error_and_the_batch_reads_failed()
    {
        var files = quiver.Files();
        var stores = quiver.VectorStores();
        var binary = (await files.UploadFileAsync(BinaryData.FromBytes([0x89, 0x50, 0x4E, 0x47, 0x00, 0x01, 0x02, 0xFF, 0x00, 0xFE]), "image.png", FileUploadPurpose.Assistants)).Value;
        var store = (await stores.CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "fails" }, Ct)).Value;

        var batch = (await stores.AddFileBatchToVectorStoreAsync(store.Id, [binary.Id], Ct)).Value;
        var done = await stores.WaitForBatchAsync(store.Id, batch.BatchId);
        Assert.Equal(VectorStoreFileBatchStatus.Failed, done.Status);
        Assert.Equal(1, done.FileCounts.Failed);

        var file = (await stores.GetVectorStoreFileAsync(store.Id, binary.Id, Ct)).Value;
        Assert.Equal(VectorStoreFileStatus.Failed, file.Status);
        Assert.NotNull(file.LastError);
        Assert.False(string.IsNullOrEmpty(file.LastError.Code.ToString()));
        Assert.False(string.IsNullOrEmpty(file.LastError.Message));
        var failed = await stores.GetVectorStoreFilesAsync(store.Id, new VectorStoreFileCollectionOptions { Filter = VectorStoreFileStatusFilter.Failed }, Ct).ToListAsync();
        Assert.Equal(binary.Id, Assert.Single(failed).FileId);

        await stores.DeleteVectorStoreAsync(store.Id, Ct);
        await files.DeleteFileAsync(binary.Id, Ct);
    }

    [Fact]
    public async Task Batch_create_retried_with_the_same_Idempotency_Key_creates_one_batch()
    {
        var files = quiver.Files();
        var stores = quiver.VectorStores();
        var file = await files.UploadTextAsync("once.txt", "Only one batch should index this file.");
        var store = (await stores.CreateVectorStoreAsync(new VectorStoreCreationOptions { Name = "idempotent" }, Ct)).Value;

        var options = new System.ClientModel.Primitives.RequestOptions { CancellationToken = Ct };
        options.AddHeader("Idempotency-Key", "sdk-retry-" + Guid.NewGuid().ToString("N"));
        var first = (await stores.AddFileBatchToVectorStoreAsync(store.Id, JsonBody(new { file_ids = new[] { file.Id } }), options)).Json();
        var retry = (await stores.AddFileBatchToVectorStoreAsync(store.Id, JsonBody(new { file_ids = new[] { file.Id } }), options)).Json();
        Assert.Equal(first.GetProperty("id").GetString(), retry.GetProperty("id").GetString());
        Assert.Equal("vector_store.files_batch", retry.GetProperty("object").GetString());

        await stores.WaitForBatchAsync(store.Id, first.GetProperty("id").GetString()!);
        Assert.Equal(1, (await stores.GetVectorStoreAsync(store.Id, Ct)).Value.FileCounts.Total);
        await stores.DeleteVectorStoreAsync(store.Id, Ct);
        await files.DeleteFileAsync(file.Id, Ct);
    }

    [Fact]
    public async Task Errors_surface_as_ClientResultException_with_the_status()
    {
        var stores = quiver.VectorStores();
        var notFound = await Assert.ThrowsAsync<ClientResultException>(() => stores.GetVectorStoreAsync("vs_doesnotexist", Ct));
        Assert.Equal(404, notFound.Status);
        var badBatch = await Assert.ThrowsAsync<ClientResultException>(() => stores.AddFileBatchToVectorStoreAsync("vs_doesnotexist", ["file-nope"], Ct));
        Assert.Equal(404, badBatch.Status);
    }
}
