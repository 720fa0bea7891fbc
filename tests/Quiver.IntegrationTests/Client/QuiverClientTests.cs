using System.Net;
using System.Text;
using System.Text.Json;
using Quiver.Client;
using Quiver.IntegrationTests.Infrastructure;

namespace Quiver.IntegrationTests.Client;

/// <summary>The typed MKA1 client against the in-memory server.</summary>
public sealed class QuiverClientTests(QuiverFactory factory) : IClassFixture<QuiverFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly PollOptions FastPoll = new() { Interval = TimeSpan.FromMilliseconds(50), Timeout = TimeSpan.FromSeconds(60) };

    private QuiverClient NewClient(string? user = null) =>
        new(factory.CreateClient(), new QuiverClientOptions
        {
            ApiKey = QuiverFactory.AdminKey,
            OnBehalfOf = user ?? "user-" + Guid.NewGuid().ToString("N"),
            Polling = FastPoll,
        });

    private static MemoryStream Text(string text) => new(Encoding.UTF8.GetBytes(text));

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items.WithCancellation(Ct))
        {
            list.Add(item);
        }

        return list;
    }

    [Fact]
    public async Task Files_upload_page_through_get_download_and_delete()
    {
        using var client = NewClient();
        var uploaded = new List<QuiverFile>();
        for (var i = 0; i < 5; i++)
        {
            using var stream = Text($"file number {i}");
            uploaded.Add(await client.Files.UploadAsync(stream, $"f{i}.txt", FilePurpose.Assistants, cancellationToken: Ct));
        }

        var path = Path.Combine(factory.DataDir, "from-disk.md");
        await File.WriteAllTextAsync(path, "# From disk\n\nhello", Ct);
        var fromDisk = await client.Files.UploadAsync(path, FilePurpose.UserData, cancellationToken: Ct);
        Assert.Equal("from-disk.md", fromDisk.Filename);
        Assert.Equal(FilePurpose.UserData, fromDisk.Purpose);

        var first = uploaded[0];
        Assert.StartsWith("file-", first.Id);
        Assert.Equal("file", first.Object);
        Assert.Equal("f0.txt", first.Filename);
        Assert.Equal(Encoding.UTF8.GetByteCount("file number 0"), first.Bytes);
        Assert.True(first.CreatedAt > 1_600_000_000);

        // Limit 2 over 6 files: three pages, newest first by default.
        var page = await client.Files.ListPageAsync(new FileListOptions { Limit = 2 }, cancellationToken: Ct);
        Assert.Equal(2, page.Data.Count);
        Assert.True(page.HasMore);
        // Paging through `after` yields exactly the one-page listing (created_at ties are ordered by id).
        var all = await ToListAsync(client.Files.ListAsync(new FileListOptions { Limit = 2, Order = ListOrder.Asc }, cancellationToken: Ct));
        var onePage = await client.Files.ListPageAsync(new FileListOptions { Order = ListOrder.Asc }, cancellationToken: Ct);
        Assert.False(onePage.HasMore);
        Assert.Equal(onePage.Data.Select(f => f.Id), all.Select(f => f.Id));
        Assert.Equal(uploaded.Select(f => f.Id).Append(fromDisk.Id).Order(StringComparer.Ordinal), all.Select(f => f.Id).Order(StringComparer.Ordinal));
        var assistants = await ToListAsync(client.Files.ListAsync(new FileListOptions { Limit = 2, Purpose = FilePurpose.Assistants }, cancellationToken: Ct));
        Assert.Equal(5, assistants.Count);

        Assert.Equal(first, await client.Files.GetAsync(first.Id, cancellationToken: Ct));

        await using (var content = await client.Files.ContentAsync(first.Id, cancellationToken: Ct))
        {
            using var reader = new StreamReader(content.Content);
            Assert.Equal("file number 0", await reader.ReadToEndAsync(Ct));
            Assert.Equal("text/plain", content.ContentType);
        }

        var deleted = await client.Files.DeleteAsync(first.Id, cancellationToken: Ct);
        Assert.True(deleted.Deleted);
        Assert.Equal(first.Id, deleted.Id);
        var gone = await Assert.ThrowsAsync<QuiverApiException>(() => client.Files.GetAsync(first.Id, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Equal("file_id", gone.Param);
    }

    [Fact]
    public async Task Store_with_MKA1_fields_batch_to_completion_filter_update_content_and_delete()
    {
        using var client = NewClient();
        var store = await client.VectorStores.CreateAsync(new CreateVectorStoreRequest
        {
            Name = "Manuals",
            Description = "Product manuals",
            EmbeddingModel = "auto",
            ExpiresAfter = new ExpiresAfter(30),
            Metadata = new Dictionary<string, AttributeValue> { ["team"] = "core", ["tier"] = 2, ["public"] = true },
        }, cancellationToken: Ct);
        Assert.StartsWith("vs_", store.Id);
        Assert.Equal("Manuals", store.Name);
        Assert.Equal("Product manuals", store.Description);
        Assert.Equal(TestEmbeddingGenerator.ModelId, store.EmbeddingModel);
        Assert.Equal(TestEmbeddingGenerator.Dimensions, store.EmbeddingDimensions);
        Assert.Equal(store.LastActiveAt, store.LastUsedAt);
        Assert.Equal(30, store.ExpiresAfter!.Days);
        Assert.Equal(store.LastActiveAt + (30 * 86400), store.ExpiresAt);
        Assert.Equal(VectorStoreStatus.Completed, store.Status);
        Assert.Equal("core", store.Metadata["team"].AsString());
        Assert.Equal(2, store.Metadata["tier"].AsNumber());
        Assert.True(store.Metadata["public"].AsBoolean());

        using var a = Text("# Passwords\n\nReset your password from Settings > Security.");
        using var b = Text("Billing questions go to the finance team.");
        var fa = await client.Files.UploadAsync(a, "passwords.md", cancellationToken: Ct);
        var fb = await client.Files.UploadAsync(b, "billing.txt", cancellationToken: Ct);

        var batch = await client.VectorStores.CreateFileBatchAndPollAsync(store.Id, new CreateFileBatchRequest
        {
            Files =
            [
                new FileBatchEntry(fa.Id) { Attributes = new Dictionary<string, AttributeValue> { ["category"] = "manual", ["version"] = 2 } },
                new FileBatchEntry(fb.Id) { ChunkingStrategy = ChunkingStrategy.CreateStatic(200, 50) },
            ],
        }, cancellationToken: Ct);
        Assert.StartsWith("vsfb_", batch.Id);
        Assert.Equal("vector_store.file_batch", batch.Object);
        Assert.Equal(VectorStoreFileStatus.Completed, batch.Status);
        Assert.Equal(new FileCounts { Completed = 2, Total = 2 }, batch.FileCounts);

        var completed = await ToListAsync(client.VectorStores.ListFilesInBatchAsync(store.Id, batch.Id,
            new VectorStoreFileListOptions { Filter = VectorStoreFileStatus.Completed, Limit = 1 }, cancellationToken: Ct));
        Assert.Equal(new[] { fa.Id, fb.Id }.Order(StringComparer.Ordinal), completed.Select(f => f.Id).Order(StringComparer.Ordinal));
        Assert.Empty(await ToListAsync(client.VectorStores.ListFilesInBatchAsync(store.Id, batch.Id,
            new VectorStoreFileListOptions { Filter = VectorStoreFileStatus.Failed }, cancellationToken: Ct)));
        Assert.Equal(2, (await ToListAsync(client.VectorStores.ListFilesAsync(store.Id, new VectorStoreFileListOptions { Limit = 1 }, cancellationToken: Ct))).Count);

        var fileA = await client.VectorStores.GetFileAsync(store.Id, fa.Id, cancellationToken: Ct);
        Assert.Equal(VectorStoreFileStatus.Completed, fileA.Status);
        Assert.Equal("auto", fileA.ChunkingStrategy!.Type);
        Assert.Equal("manual", fileA.Attributes!["category"].AsString());
        Assert.True(fileA.UsageBytes > 0);
        var fileB = await client.VectorStores.GetFileAsync(store.Id, fb.Id, cancellationToken: Ct);
        Assert.Equal(ChunkingStrategy.CreateStatic(200, 50), fileB.ChunkingStrategy);

        var updated = await client.VectorStores.UpdateFileAsync(store.Id, fa.Id,
            new Dictionary<string, AttributeValue> { ["category"] = "faq", ["reviewed"] = false }, cancellationToken: Ct);
        Assert.Equal(AttributeValue.FromString("faq"), updated.Attributes!["category"]);
        Assert.Equal(AttributeValue.FromBoolean(false), updated.Attributes["reviewed"]);

        var content = await client.VectorStores.GetFileContentAsync(store.Id, fa.Id, cancellationToken: Ct);
        Assert.Equal(fa.Id, content.FileId);
        Assert.Equal("passwords.md", content.Filename);
        Assert.Equal("faq", content.Attributes!["category"].AsString());
        Assert.Contains("Reset your password", string.Concat(content.Content.Select(c => c.Text)));
        Assert.All(content.Content, c => Assert.Equal("text", c.Type));

        var renamed = await client.VectorStores.UpdateAsync(store.Id, new UpdateVectorStoreRequest { Name = "Renamed", RemoveExpiresAfter = true }, cancellationToken: Ct);
        Assert.Equal("Renamed", renamed.Name);
        Assert.Equal("Product manuals", renamed.Description);
        Assert.Null(renamed.ExpiresAfter);
        Assert.Null(renamed.ExpiresAt);
        Assert.Equal(2, renamed.FileCounts.Completed);
        Assert.Equal(fileA.UsageBytes + fileB.UsageBytes, renamed.UsageBytes);

        var detached = await client.VectorStores.DeleteFileAsync(store.Id, fb.Id, cancellationToken: Ct);
        Assert.Equal(new DeletionStatus { Id = fb.Id, Object = "vector_store.file.deleted", Deleted = true }, detached);
        Assert.Equal(1, (await client.VectorStores.GetAsync(store.Id, cancellationToken: Ct)).FileCounts.Total);

        var deleted = await client.VectorStores.DeleteAsync(store.Id, cancellationToken: Ct);
        Assert.Equal(new DeletionStatus { Id = store.Id, Object = "vector_store.deleted", Deleted = true }, deleted);
        var gone = await Assert.ThrowsAsync<QuiverApiException>(() => client.VectorStores.GetAsync(store.Id, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Equal("invalid_request_error", gone.Type);
        Assert.Equal("vector_store_id", gone.Param);
    }

    [Fact]
    public async Task Stores_page_through_after_and_single_and_multi_upload_and_poll()
    {
        using var client = NewClient();
        var created = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            created.Add((await client.VectorStores.CreateAsync(new CreateVectorStoreRequest { Name = $"s{i}" }, cancellationToken: Ct)).Id);
        }

        var stores = await ToListAsync(client.VectorStores.ListAsync(new ListOptions { Limit = 1 }, cancellationToken: Ct));
        var onePage = await client.VectorStores.ListPageAsync(cancellationToken: Ct);
        Assert.Equal(onePage.Data.Select(s => s.Id), stores.Select(s => s.Id));
        Assert.Equal(created.Order(StringComparer.Ordinal), stores.Select(s => s.Id).Order(StringComparer.Ordinal));

        using var one = Text("single upload about llamas");
        var file = await client.VectorStores.UploadAndPollAsync(created[0],
            new UploadItem(one, "llamas.txt") { Attributes = new Dictionary<string, AttributeValue> { ["animal"] = "llama" } }, cancellationToken: Ct);
        Assert.Equal(VectorStoreFileStatus.Completed, file.Status);
        Assert.Equal("llama", file.Attributes!["animal"].AsString());

        using var x = Text("first of many");
        using var y = Text("second of many");
        var batch = await client.VectorStores.UploadAndPollAsync(created[1], [new UploadItem(x, "x.txt"), new UploadItem(y, "y.txt")], cancellationToken: Ct);
        Assert.Equal(VectorStoreFileStatus.Completed, batch.Status);
        Assert.Equal(2, batch.FileCounts.Completed);

        using var z = Text("attached singly");
        var fz = await client.Files.UploadAsync(z, "z.txt", cancellationToken: Ct);
        var attached = await client.VectorStores.CreateFileAndPollAsync(created[2], new CreateVectorStoreFileRequest(fz.Id), cancellationToken: Ct);
        Assert.Equal(VectorStoreFileStatus.Completed, attached.Status);
        Assert.Equal(created[2], attached.VectorStoreId);
    }

    [Fact]
    public async Task Cancelling_a_held_batch_stops_the_poller_on_cancelled()
    {
        using var client = NewClient();
        var store = await client.VectorStores.CreateAsync(cancellationToken: Ct);
        using var a = Text("alpha document");
        using var b = Text("beta document");
        var fa = await client.Files.UploadAsync(a, "a.txt", cancellationToken: Ct);
        var fb = await client.Files.UploadAsync(b, "b.txt", cancellationToken: Ct);

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        factory.Embedder.Gate = gate;
        try
        {
            var batch = await client.VectorStores.CreateFileBatchAsync(store.Id, new CreateFileBatchRequest { FileIds = [fa.Id, fb.Id] }, cancellationToken: Ct);
            Assert.Equal(VectorStoreFileStatus.InProgress, batch.Status);

            // Held: a poll with a short timeout gives up with TimeoutException.
            var timeout = await Assert.ThrowsAsync<TimeoutException>(() => client.VectorStores.PollFileBatchAsync(
                store.Id, batch.Id, new PollOptions { Interval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromMilliseconds(300) }, cancellationToken: Ct));
            Assert.Contains("in_progress", timeout.Message);

            var inProgress = await ToListAsync(client.VectorStores.ListFilesInBatchAsync(store.Id, batch.Id,
                new VectorStoreFileListOptions { Filter = VectorStoreFileStatus.InProgress }, cancellationToken: Ct));
            Assert.Equal(2, inProgress.Count);

            var poller = client.VectorStores.PollFileBatchAsync(store.Id, batch.Id, cancellationToken: Ct);
            var cancelled = await client.VectorStores.CancelFileBatchAsync(store.Id, batch.Id, cancellationToken: Ct);
            Assert.Equal(VectorStoreFileStatus.Cancelled, cancelled.Status);
            Assert.Equal(new FileCounts { Cancelled = 2, Total = 2 }, cancelled.FileCounts);

            var settled = await poller.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(VectorStoreFileStatus.Cancelled, settled.Status);

            var cancelledFiles = await ToListAsync(client.VectorStores.ListFilesInBatchAsync(store.Id, batch.Id,
                new VectorStoreFileListOptions { Filter = VectorStoreFileStatus.Cancelled }, cancellationToken: Ct));
            Assert.Equal(2, cancelledFiles.Count);
            var file = await client.VectorStores.PollFileAsync(store.Id, fa.Id, cancellationToken: Ct);
            Assert.Equal(VectorStoreFileStatus.Cancelled, file.Status);
        }
        finally
        {
            factory.Embedder.Gate = null;
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task Idempotency_key_makes_a_retried_batch_create_return_the_same_batch()
    {
        using var client = NewClient();
        var store = await client.VectorStores.CreateAsync(cancellationToken: Ct);
        using var a = Text("idempotent content");
        var fa = await client.Files.UploadAsync(a, "a.txt", cancellationToken: Ct);
        var options = new RequestOptions { IdempotencyKey = "key-" + Guid.NewGuid().ToString("N") };
        var request = new CreateFileBatchRequest { FileIds = [fa.Id], Attributes = new Dictionary<string, AttributeValue> { ["k"] = 1.5 } };
        var first = await client.VectorStores.CreateFileBatchAsync(store.Id, request, options, Ct);
        var second = await client.VectorStores.CreateFileBatchAsync(store.Id, request, options, Ct);
        Assert.Equal(first.Id, second.Id);
        var done = await client.VectorStores.PollFileBatchAsync(store.Id, first.Id, cancellationToken: Ct);
        Assert.Equal(1, done.FileCounts.Total);
        Assert.Equal(1.5, (await client.VectorStores.GetFileAsync(store.Id, fa.Id, cancellationToken: Ct)).Attributes!["k"].AsNumber());
    }

    [Fact]
    public async Task Errors_are_typed_with_status_type_param_and_code()
    {
        using var client = NewClient();
        var missing = await Assert.ThrowsAsync<QuiverApiException>(() =>
            client.VectorStores.GetAsync("vs_" + new string('0', 24), cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("invalid_request_error", missing.Type);
        Assert.Equal("vector_store_id", missing.Param);
        Assert.False(string.IsNullOrWhiteSpace(missing.Message));

        var wrongPrefix = await Assert.ThrowsAsync<QuiverApiException>(() =>
            client.VectorStores.GetFileBatchAsync("vs_" + new string('0', 24), "vs_" + new string('1', 24), cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.BadRequest, wrongPrefix.Status);
        Assert.Equal("batch_id", wrongPrefix.Param);

        var badModel = await Assert.ThrowsAsync<QuiverApiException>(() =>
            client.VectorStores.CreateAsync(new CreateVectorStoreRequest { EmbeddingModel = "openai:nope" }, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.BadRequest, badModel.Status);
        Assert.Equal("embedding_model", badModel.Param);

        using var anonymous = new QuiverClient(factory.CreateClient(), new QuiverClientOptions { ApiKey = "wrong-key" });
        var unauthorized = await Assert.ThrowsAsync<QuiverApiException>(() => anonymous.VectorStores.CreateAsync(cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.Status);
        Assert.Equal("authentication_error", unauthorized.Type);
    }

    [Fact]
    public async Task On_behalf_of_isolates_users_per_call_and_by_default()
    {
        using var client = NewClient("alice-" + Guid.NewGuid().ToString("N"));
        var bob = new RequestOptions { OnBehalfOf = "bob-" + Guid.NewGuid().ToString("N") };
        var store = await client.VectorStores.CreateAsync(new CreateVectorStoreRequest { Name = "Alice's" }, cancellationToken: Ct);

        var hidden = await Assert.ThrowsAsync<QuiverApiException>(() => client.VectorStores.GetAsync(store.Id, bob, Ct));
        Assert.Equal(HttpStatusCode.NotFound, hidden.Status);
        Assert.Equal("vector_store_id", hidden.Param);
        Assert.Empty(await ToListAsync(client.VectorStores.ListAsync(options: bob, cancellationToken: Ct)));
        await Assert.ThrowsAsync<QuiverApiException>(() => client.VectorStores.DeleteAsync(store.Id, bob, Ct));

        var bobsStore = await client.VectorStores.CreateAsync(options: bob, cancellationToken: Ct);
        Assert.Equal([store.Id], (await ToListAsync(client.VectorStores.ListAsync(cancellationToken: Ct))).Select(s => s.Id));
        Assert.Equal([bobsStore.Id], (await ToListAsync(client.VectorStores.ListAsync(options: bob, cancellationToken: Ct))).Select(s => s.Id));

        // Without any on-behalf-of, the key's own principal sees neither.
        var keyOnly = new RequestOptions { OmitOnBehalfOf = true };
        Assert.DoesNotContain(store.Id, (await ToListAsync(client.VectorStores.ListAsync(options: keyOnly, cancellationToken: Ct))).Select(s => s.Id));
        Assert.True((await client.VectorStores.GetAsync(store.Id, cancellationToken: Ct)).Id == store.Id);
    }

    [Fact]
    public async Task Search_with_filters_ranking_and_multiple_queries()
    {
        using var client = NewClient();
        var store = await client.VectorStores.CreateAsync(cancellationToken: Ct);
        using var a = Text("Reset your password from Settings > Security.");
        using var b = Text("Invoices and billing are handled by the finance team.");
        var batch = await client.VectorStores.UploadAndPollAsync(store.Id,
        [
            new UploadItem(a, "passwords.md") { Attributes = new Dictionary<string, AttributeValue> { ["category"] = "manual", ["version"] = 2 } },
            new UploadItem(b, "billing.md") { Attributes = new Dictionary<string, AttributeValue> { ["category"] = "finance", ["version"] = 1 } },
        ], cancellationToken: Ct);
        Assert.Equal(2, batch.FileCounts.Completed);

        var results = await client.VectorStores.SearchAsync(store.Id, new SearchVectorStoreRequest("reset password")
        {
            MaxNumResults = 5,
            Filters = Filter.And(Filter.Eq("category", "manual"), Filter.Gte("version", 2)),
            RankingOptions = new RankingOptions { Ranker = "auto", ScoreThreshold = 0 },
            RewriteQuery = false,
        }, cancellationToken: Ct);

        Assert.Equal("vector_store.search_results.page", results.Object);
        Assert.Equal("reset password", results.SearchQuery);
        var hit = Assert.Single(results.Data);
        Assert.Equal("passwords.md", hit.Filename);
        Assert.InRange(hit.Score, 0, 1);
        Assert.Equal("manual", hit.Attributes!["category"].AsString());
        Assert.Contains("Reset your password", hit.Content[0].Text);
        Assert.False(results.HasMore);

        // Several queries (joined in the MKA1 search_query) and a raw JSON filter.
        var raw = JsonSerializer.Deserialize<JsonElement>("""{"type":"in","key":"category","value":["manual","finance"]}""");
        var both = await client.VectorStores.SearchAsync(store.Id, new SearchVectorStoreRequest(new[] { "password", "invoices" }) { Filters = raw }, cancellationToken: Ct);
        Assert.Equal("password invoices", both.SearchQuery);
        Assert.Equal(["billing.md", "passwords.md"], both.Data.Select(d => d.Filename).Distinct().Order(StringComparer.Ordinal));
    }
}

/// <summary>Client behaviour that needs a scripted server: headers sent, poll hints, error bodies.</summary>
public sealed class QuiverClientProtocolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class ScriptedHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        public List<string?> Bodies { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            Bodies.Add(request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken));
            return respond(request);
        }
    }

    private static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    private static string BatchJson(string status) =>
        $$$"""{"id":"vsfb_1","object":"vector_store.file_batch","created_at":1,"vector_store_id":"vs_1","status":"{{{status}}}","file_counts":{"in_progress":0,"completed":0,"failed":1,"cancelled":0,"total":1}}""";

    [Fact]
    public async Task Poller_honours_poll_after_header_and_stops_on_failed()
    {
        var calls = 0;
        using var handler = new ScriptedHandler(_ =>
        {
            calls++;
            if (calls < 3)
            {
                var r = Json(BatchJson("in_progress"));
                r.Headers.TryAddWithoutValidation("openai-poll-after-ms", "10");
                return r;
            }

            return Json(BatchJson("failed"));
        });
        using var client = new QuiverClient(new HttpClient(handler), new QuiverClientOptions
        {
            BaseAddress = new Uri("http://quiver.test/root/"),
            ApiKey = "Bearer k1",
            OnBehalfOf = "default-user",
        });

        // The default interval is an hour: only the header can make this finish quickly.
        var batch = await client.VectorStores.PollFileBatchAsync("vs_1", "vsfb_1",
            new PollOptions { Interval = TimeSpan.FromHours(1), Timeout = TimeSpan.FromSeconds(20) }, new RequestOptions { OnBehalfOf = "u2", IdempotencyKey = "ignored-on-get" }, Ct);
        Assert.Equal(VectorStoreFileStatus.Failed, batch.Status);
        Assert.Equal(3, calls);
        var request = handler.Requests[0];
        Assert.Equal("http://quiver.test/root/api/v1/llm/vector_stores/vs_1/file_batches/vsfb_1", request.RequestUri!.ToString());
        Assert.Equal("Bearer k1", request.Headers.Authorization!.ToString());
        Assert.Equal(["u2"], request.Headers.GetValues("X-On-Behalf-Of"));
        Assert.False(request.Headers.Contains("Idempotency-Key"));
    }

    [Fact]
    public async Task Creates_send_idempotency_key_and_default_on_behalf_of()
    {
        using var handler = new ScriptedHandler(_ => Json("""{"id":"vs_1","object":"vector_store","created_at":1,"usage_bytes":0,"file_counts":{"in_progress":0,"completed":0,"failed":0,"cancelled":0,"total":0},"status":"completed","last_active_at":1,"metadata":{}}"""));
        using var client = new QuiverClient(new HttpClient(handler) { BaseAddress = new Uri("http://quiver.test") }, new QuiverClientOptions { ApiKey = "k", OnBehalfOf = "default-user" });
        var store = await client.VectorStores.CreateAsync(new CreateVectorStoreRequest { Name = "n" }, new RequestOptions { IdempotencyKey = "idem-1" }, Ct);
        Assert.Equal("vs_1", store.Id);
        Assert.Null(store.EmbeddingModel); // legacy/absent MKA1 fields are tolerated
        Assert.Null(store.LastUsedAt);
        var request = handler.Requests.Single();
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(["idem-1"], request.Headers.GetValues("Idempotency-Key"));
        Assert.Equal(["default-user"], request.Headers.GetValues("X-On-Behalf-Of"));
        Assert.Equal("""{"name":"n"}""", handler.Bodies.Single());
    }

    [Theory]
    [InlineData(HttpStatusCode.BadGateway, "text/html", "<html>Bad gateway</html>", null)]
    [InlineData(HttpStatusCode.TooManyRequests, "application/json", """{"error":"Rate limit exceeded"}""", "Rate limit exceeded")]
    [InlineData(HttpStatusCode.InternalServerError, "application/json", "", null)]
    public async Task Non_envelope_error_bodies_still_raise_QuiverApiException(HttpStatusCode status, string mediaType, string body, string? message)
    {
        using var handler = new ScriptedHandler(_ =>
        {
            var r = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
            r.Headers.TryAddWithoutValidation("Retry-After", "7");
            return r;
        });
        using var client = new QuiverClient(new HttpClient(handler), new QuiverClientOptions { BaseAddress = new Uri("http://quiver.test"), ApiKey = "k" });
        var error = await Assert.ThrowsAsync<QuiverApiException>(() => client.Files.GetAsync("file-x", cancellationToken: Ct));
        Assert.Equal(status, error.Status);
        Assert.Null(error.Type);
        Assert.Null(error.Param);
        if (message is not null)
        {
            Assert.Equal(message, error.Message);
            Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        }
        else
        {
            Assert.Contains(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
        }
    }

    [Fact]
    public void Filter_builder_writes_the_comparison_and_compound_shapes()
    {
        var filter = Filter.Or(Filter.And(Filter.Eq("a", "x"), Filter.Lt("n", 3.5)), Filter.Nin("c", "p", 2, true), Filter.Ne("b", false));
        Assert.Equal(
            """{"type":"or","filters":[{"type":"and","filters":[{"type":"eq","key":"a","value":"x"},{"type":"lt","key":"n","value":3.5}]},{"type":"nin","key":"c","value":["p",2,true]},{"type":"ne","key":"b","value":false}]}""",
            filter.ToString());
    }
}
