using System.Net;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>Vector stores on the embedded backend.</summary>
public sealed class VectorStoresTests(QuiverFactory factory) : VectorStoresContract<QuiverFactory>(factory);

/// <summary>The same contract on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class VectorStoresPostgresTests : VectorStoresContract<PostgresQuiverFactory>
{
    public VectorStoresPostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();
}

/// <summary>The vector stores contract, run against each storage backend.</summary>
public abstract class VectorStoresContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    private HttpClient NewUser() => factory.CreateApiClient(onBehalfOf: "user-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task Create_retrieve_modify_list_and_delete_a_store(string prefix)
    {
        var client = NewUser();
        var store = await client.CreateStoreAsync(prefix, """
            {"name":"Docs","description":"Manuals","metadata":{"team":"core","tier":2,"public":true},
             "expires_after":{"anchor":"last_active_at","days":30}}
            """);
        var id = (string)store["id"]!;
        Assert.StartsWith("vs_", id);
        Assert.Equal("vector_store", (string?)store["object"]);
        Assert.Equal("Docs", (string?)store["name"]);
        Assert.Equal("Manuals", (string?)store["description"]);
        Assert.Equal("completed", (string?)store["status"]);
        Assert.Equal(0, (long)store["usage_bytes"]!);
        Assert.Equal("""{"in_progress":0,"completed":0,"failed":0,"cancelled":0,"total":0}""", store["file_counts"]!.ToJsonString());
        Assert.Equal("""{"team":"core","tier":2,"public":true}""", store["metadata"]!.ToJsonString());
        Assert.Equal(TestEmbeddingGenerator.ModelId, (string?)store["embedding_model"]);
        Assert.Equal(64, (int)store["embedding_dimensions"]!);
        Assert.Equal(30, (int)store["expires_after"]!["days"]!);
        Assert.Equal((long)store["last_active_at"]! + (30 * 86400), (long)store["expires_at"]!);
        Assert.Equal((long)store["last_active_at"]!, (long)store["last_used_at"]!);

        Assert.Equal(store.ToJsonString(), (await client.GetJsonAsync($"{prefix}/vector_stores/{id}")).ToJsonString());

        var modified = await client.PostJsonAsync($"{prefix}/vector_stores/{id}", """{"name":"Renamed","metadata":{"team":"search"},"expires_after":null}""");
        Assert.Equal("Renamed", (string?)modified["name"]);
        Assert.Equal("Manuals", (string?)modified["description"]);
        Assert.Equal("""{"team":"search"}""", modified["metadata"]!.ToJsonString());
        Assert.Null(modified["expires_after"]);
        Assert.Null((long?)modified["expires_at"]);

        Assert.Equal([id], (await client.GetJsonAsync($"{prefix}/vector_stores")).Ids());

        var deleted = await (await client.DeleteAsync($"{prefix}/vector_stores/{id}", Ct)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal($$"""{"id":"{{id}}","object":"vector_store.deleted","deleted":true}""", deleted.ToJsonString());
        using var gone = await client.GetAsync($"{prefix}/vector_stores/{id}", Ct);
        await gone.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
    }

    [Theory]
    [InlineData("""{"name":123}""", "name")]
    [InlineData("""{"metadata":{"a":{"nested":1}}}""", "metadata")]
    [InlineData("""{"metadata":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17}}""", "metadata")]
    [InlineData("""{"expires_after":{"anchor":"created_at","days":3}}""", "expires_after")]
    [InlineData("""{"expires_after":{"anchor":"last_active_at","days":366}}""", "expires_after")]
    [InlineData("""{"embedding_model":"openai:nope"}""", "embedding_model")]
    [InlineData("""{"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":99,"chunk_overlap_tokens":0}}}""", "chunking_strategy")]
    [InlineData("""{"chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":400,"chunk_overlap_tokens":201}}}""", "chunking_strategy")]
    [InlineData("""{"file_ids":["vs_x"]}""", "file_ids")]
    [InlineData("""{"file_ids":["file-000000000000000000000000"]}""", "file_id")]
    public async Task Invalid_store_bodies_are_rejected_and_create_nothing(string json, string param)
    {
        var client = NewUser();
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/v1/vector_stores", content, Ct);
        var status = param == "file_id" ? HttpStatusCode.NotFound : HttpStatusCode.BadRequest;
        await response.AssertErrorAsync(status, "invalid_request_error", param);
        Assert.Empty((await client.GetJsonAsync("/v1/vector_stores")).Ids());
    }

    [Fact]
    public async Task Malformed_json_is_a_400_with_the_envelope()
    {
        using var content = new StringContent("{\"name\": ", System.Text.Encoding.UTF8, "application/json");
        using var response = await NewUser().PostAsync("/v1/vector_stores", content, Ct);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", null, "invalid_json");
    }

    [Fact]
    public async Task Invalid_utf8_inside_a_json_string_is_a_400_and_creates_nothing()
    {
        // Well-formed JSON whose string holds a lone continuation byte (0x80): found by fuzzing, was a 500.
        var client = NewUser();
        using var content = new ByteArrayContent([.. "{\"name\": \""u8, 0x80, .. "\"}"u8]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync("/v1/vector_stores", content, Ct);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", null, "invalid_json");
        Assert.Empty((await client.GetJsonAsync("/v1/vector_stores")).Ids());
    }

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task A_file_is_ingested_counted_searchable_data_is_exact_and_detached(string prefix)
    {
        var client = NewUser();
        var fileId = (string)(await client.UploadAsync(prefix, "guide.md", "# Password\n\nReset your password from Settings > Security.\n\nContact support for anything else."))["id"]!;
        var storeId = (string)(await client.CreateStoreAsync(prefix))["id"]!;

        var attached = await client.AttachAsync(prefix, storeId, fileId, ""","attributes":{"category":"manual","version":2}""");
        Assert.Equal("vector_store.file", (string?)attached["object"]);
        Assert.Equal("in_progress", (string?)attached["status"]);
        Assert.Equal(0, (long)attached["usage_bytes"]!);
        Assert.Null(attached["last_error"]);
        Assert.Equal("""{"category":"manual","version":2}""", attached["attributes"]!.ToJsonString());
        var expectedChunking = prefix == "/v1"
            ? """{"type":"static","static":{"max_chunk_size_tokens":200,"chunk_overlap_tokens":50}}"""
            : """{"type":"auto"}""";
        Assert.Equal(expectedChunking, attached["chunking_strategy"]!.ToJsonString());

        var done = await client.WaitForFileAsync(prefix, storeId, fileId);
        Assert.Equal("completed", (string?)done["status"]);
        var usage = (long)done["usage_bytes"]!;
        Assert.True(usage > 64 * 4, $"usage_bytes {usage} should count chunk text and vectors");

        var store = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}");
        Assert.Equal(1, store.Count("completed"));
        Assert.Equal(1, store.Count("total"));
        Assert.Equal(usage, (long)store["usage_bytes"]!);
        Assert.Equal("completed", (string?)store["status"]);

        Assert.Equal([fileId], (await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}/files?filter=completed")).Ids());
        Assert.Empty((await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}/files?filter=failed")).Ids());

        var content = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}/files/{fileId}/content");
        if (prefix == "/v1")
        {
            Assert.Equal("vector_store.file_content.page", (string?)content["object"]);
            Assert.Contains("Reset your password", (string?)content["data"]![0]!["text"]);
            Assert.False((bool)content["has_more"]!);
        }
        else
        {
            Assert.Equal(fileId, (string?)content["file_id"]);
            Assert.Equal("guide.md", (string?)content["filename"]);
            Assert.Equal("""{"category":"manual","version":2}""", content["attributes"]!.ToJsonString());
            Assert.Contains("Reset your password", (string?)content["content"]![0]!["text"]);
        }

        var updated = await client.PostJsonAsync($"{prefix}/vector_stores/{storeId}/files/{fileId}", """{"attributes":{"category":"faq"}}""");
        Assert.Equal("""{"category":"faq"}""", updated["attributes"]!.ToJsonString());
        Assert.Equal("completed", (string?)updated["status"]);

        var detached = await (await client.DeleteAsync($"{prefix}/vector_stores/{storeId}/files/{fileId}", Ct)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal($$"""{"id":"{{fileId}}","object":"vector_store.file.deleted","deleted":true}""", detached.ToJsonString());
        store = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}");
        Assert.Equal(0, store.Count("total"));
        Assert.Equal(0, (long)store["usage_bytes"]!);
        Assert.Equal(0, await factory.CountChunksAsync(storeId));
        // The File itself stays.
        Assert.Equal(fileId, (string?)(await client.GetJsonAsync($"{prefix}/files/{fileId}"))["id"]);
    }

    [Fact]
    public async Task Deleting_a_file_detaches_it_from_every_store()
    {
        var client = NewUser();
        var fileId = (string)(await client.UploadAsync("/v1", "a.txt", "alpha beta gamma"))["id"]!;
        var stores = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var storeId = (string)(await client.CreateStoreAsync("/v1", $$"""{"file_ids":["{{fileId}}"]}"""))["id"]!;
            await client.WaitForFileAsync("/v1", storeId, fileId);
            stores.Add(storeId);
        }

        await (await client.DeleteAsync($"/v1/files/{fileId}", Ct)).ReadJsonAsync(HttpStatusCode.OK);
        foreach (var storeId in stores)
        {
            var store = await client.GetJsonAsync($"/v1/vector_stores/{storeId}");
            Assert.Equal(0, store.Count("total"));
            Assert.Equal(0, (long)store["usage_bytes"]!);
            Assert.Equal(0, await factory.CountChunksAsync(storeId));
            using var gone = await client.GetAsync($"/v1/vector_stores/{storeId}/files/{fileId}", Ct);
            await gone.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "file_id");
        }
    }

    [Fact]
    public async Task Re_attaching_swaps_chunks_and_keeps_counts_exact()
    {
        var client = NewUser();
        var fileId = (string)(await client.UploadAsync("/v1", "long.txt", string.Join("\n\n", Enumerable.Range(0, 60).Select(i => $"Paragraph {i} talks about topic {i} in some detail."))))["id"]!;
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        await client.AttachAsync("/v1", storeId, fileId);
        await client.WaitForFileAsync("/v1", storeId, fileId);
        var before = await factory.CountChunksAsync(storeId);

        await client.AttachAsync("/v1", storeId, fileId, ""","chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":100,"chunk_overlap_tokens":0}}""");
        var done = await client.WaitForFileAsync("/v1", storeId, fileId);
        Assert.Equal("completed", (string?)done["status"]);
        var after = await factory.CountChunksAsync(storeId);
        Assert.True(after > before, $"smaller chunks should give more of them ({before} → {after})");
        Assert.Equal(after, await factory.CountFtsRowsAsync(storeId));
        var store = await client.GetJsonAsync($"/v1/vector_stores/{storeId}");
        Assert.Equal(1, store.Count("total"));
        Assert.Equal((long)done["usage_bytes"]!, (long)store["usage_bytes"]!);
    }

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task Another_principals_store_is_a_404_everywhere(string prefix)
    {
        var owner = NewUser();
        var fileId = (string)(await owner.UploadAsync(prefix, "x.txt", "hello"))["id"]!;
        var storeId = (string)(await owner.CreateStoreAsync(prefix, $$"""{"file_ids":["{{fileId}}"]}"""))["id"]!;
        var intruder = NewUser();

        foreach (var url in new[] { $"{prefix}/vector_stores/{storeId}", $"{prefix}/vector_stores/{storeId}/files", $"{prefix}/vector_stores/{storeId}/files/{fileId}" })
        {
            using var response = await intruder.GetAsync(url, Ct);
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
        }

        using (var response = await intruder.DeleteAsync($"{prefix}/vector_stores/{storeId}", Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
        }

        Assert.Empty((await intruder.GetJsonAsync($"{prefix}/vector_stores")).Ids());

        // The intruder cannot attach the owner's file to its own store either.
        var own = (string)(await intruder.CreateStoreAsync(prefix))["id"]!;
        using var attach = new StringContent($$"""{"file_id":"{{fileId}}"}""", System.Text.Encoding.UTF8, "application/json");
        using var attached = await intruder.PostAsync($"{prefix}/vector_stores/{own}/files", attach, Ct);
        await attached.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "file_id");
    }

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task Malformed_path_ids_are_400s_naming_the_parameter(string prefix)
    {
        var client = NewUser();
        var storeId = (string)(await client.CreateStoreAsync(prefix))["id"]!;
        foreach (var (url, param) in new[]
        {
            ($"{prefix}/vector_stores/file-abc", "vector_store_id"),
            ($"{prefix}/vector_stores/{storeId}/files/vs_abc", "file_id"),
            ($"{prefix}/vector_stores/{storeId}/file_batches/vs_abc", "batch_id"),
        })
        {
            using var response = await client.GetAsync(url, Ct);
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", param, "invalid_id");
        }
    }

    [Fact]
    public async Task Unsupported_and_invalid_files_fail_with_the_right_codes()
    {
        var client = NewUser();
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        var pngId = (string)(await (await client.PostAsync("/v1/files", FileForm("image.png", png), Ct)).ReadJsonAsync(HttpStatusCode.OK))["id"]!;
        var corruptPdfId = (string)(await (await client.PostAsync("/v1/files", FileForm("broken.pdf", "%PDF-1.7\nthis is not a pdf"u8.ToArray()), Ct)).ReadJsonAsync(HttpStatusCode.OK))["id"]!;
        var blankId = (string)(await client.UploadAsync("/v1", "blank.txt", "   \n\n\t  "))["id"]!;

        foreach (var (id, code) in new[] { (pngId, "unsupported_file"), (corruptPdfId, "invalid_file"), (blankId, "invalid_file") })
        {
            await client.AttachAsync("/v1", storeId, id);
            var file = await client.WaitForFileAsync("/v1", storeId, id);
            Assert.Equal("failed", (string?)file["status"]);
            Assert.Equal(code, (string?)file["last_error"]!["code"]);
            Assert.False(string.IsNullOrWhiteSpace((string?)file["last_error"]!["message"]));
            Assert.DoesNotContain(factory.DataDir, (string?)file["last_error"]!["message"]);
        }

        var store = await client.GetJsonAsync("/v1/vector_stores/" + storeId);
        Assert.Equal(3, store.Count("failed"));
        Assert.Equal(3, store.Count("total"));
        Assert.Equal(0, (long)store["usage_bytes"]!);
        Assert.Equal("completed", (string?)store["status"]);
    }
}
