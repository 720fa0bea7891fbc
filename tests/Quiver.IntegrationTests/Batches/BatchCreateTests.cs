using System.Net;
using System.Text;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Batches;

/// <summary>File batch creation (§3.13, D7), listing (§3.16), poll hints and idempotent retries.</summary>
public abstract class BatchCreateContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory, new()
{
    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task File_ids_apply_root_attributes_and_chunking_to_every_file(string prefix)
    {
        var client = factory.NewUser();
        var ids = await client.UploadManyAsync(3, prefix);
        var storeId = (string)(await client.CreateStoreAsync(prefix))["id"]!;

        var batch = await client.PostJsonAsync($"{prefix}/vector_stores/{storeId}/file_batches", $$$$"""
            {"file_ids":{{{{BatchTestKit.FileIdsJson(ids)}}}},"attributes":{"team":"docs","v":2},
             "chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":120,"chunk_overlap_tokens":10}}}
            """);
        Assert.StartsWith("vsfb_", (string?)batch["id"]);
        Assert.Equal(prefix == "/v1" ? "vector_store.files_batch" : "vector_store.file_batch", (string?)batch["object"]);
        Assert.Equal(storeId, (string?)batch["vector_store_id"]);
        Assert.Equal(["id", "object", "created_at", "vector_store_id", "status", "file_counts"], batch.Select(p => p.Key));
        Assert.Equal(3, batch.Count("total"));
        Assert.Equal(3, batch.Count("in_progress") + batch.Count("completed"));

        var done = await client.WaitForBatchAsync(prefix, storeId, (string)batch["id"]!);
        Assert.Equal("completed", (string?)done["status"]);
        Assert.Equal("""{"in_progress":0,"completed":3,"failed":0,"cancelled":0,"total":3}""", done["file_counts"]!.ToJsonString());
        Assert.Equal(prefix == "/v1" ? "vector_store.files_batch" : "vector_store.file_batch", (string?)done["object"]);
        foreach (var id in ids)
        {
            var file = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}/files/{id}");
            Assert.Equal("""{"team":"docs","v":2}""", file["attributes"]!.ToJsonString());
            Assert.Equal("""{"type":"static","static":{"max_chunk_size_tokens":120,"chunk_overlap_tokens":10}}""", file["chunking_strategy"]!.ToJsonString());
        }
    }

    [Fact]
    public async Task Files_entries_carry_their_own_attributes_and_root_ones_are_ignored()
    {
        var client = factory.NewUser();
        var ids = await client.UploadManyAsync(2);
        var storeId = (string)(await client.CreateStoreAsync("/api/v1/llm"))["id"]!;
        var batch = await client.PostJsonAsync($"/api/v1/llm/vector_stores/{storeId}/file_batches", $$$$"""
            {"files":[{"file_id":"{{{{ids[0]}}}}","attributes":{"lang":"en"}},
                      {"file_id":"{{{{ids[1]}}}}","attributes":{"lang":"de"},
                       "chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":300,"chunk_overlap_tokens":0}}}],
             "attributes":{"root":"ignored"},
             "chunking_strategy":{"type":"static","static":{"max_chunk_size_tokens":150,"chunk_overlap_tokens":5}}}
            """);
        await client.WaitForBatchAsync("/api/v1/llm", storeId, (string)batch["id"]!);

        var first = await client.GetJsonAsync($"/api/v1/llm/vector_stores/{storeId}/files/{ids[0]}");
        Assert.Equal("""{"lang":"en"}""", first["attributes"]!.ToJsonString());
        Assert.Equal("""{"type":"auto"}""", first["chunking_strategy"]!.ToJsonString());
        var second = await client.GetJsonAsync($"/api/v1/llm/vector_stores/{storeId}/files/{ids[1]}");
        Assert.Equal("""{"lang":"de"}""", second["attributes"]!.ToJsonString());
        Assert.Equal("""{"type":"static","static":{"max_chunk_size_tokens":300,"chunk_overlap_tokens":0}}""", second["chunking_strategy"]!.ToJsonString());
    }

    [Fact]
    public async Task Invalid_batch_bodies_are_400s_and_create_nothing()
    {
        var client = factory.NewUser();
        var ids = await client.UploadManyAsync(2);
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var tooMany = Enumerable.Range(0, 2001).Select(i => "file-" + i.ToString("D24")).ToList();
        foreach (var (body, param) in new[]
        {
            ($$"""{"file_ids":["{{ids[0]}}"],"files":[{"file_id":"{{ids[1]}}"}]}""", "files"),
            ("""{"attributes":{"a":"b"}}""", "file_ids"),
            ("""{"file_ids":[]}""", "file_ids"),
            ("""{"files":[]}""", "files"),
            ($$"""{"file_ids":{{BatchTestKit.FileIdsJson(tooMany)}}}""", "file_ids"),
            ($$"""{"file_ids":["{{ids[0]}}","{{ids[1]}}","{{ids[0]}}"]}""", "file_ids"),
            ($$"""{"files":[{"file_id":"{{ids[1]}}"},{"file_id":"{{ids[1]}}"}]}""", "files"),
            ("""{"file_ids":["vs_abc"]}""", "file_ids"),
        })
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync($"/v1/vector_stores/{storeId}/file_batches", content, Ct);
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", param);
        }

        await AssertNothingCreatedAsync(client, storeId);
    }

    [Fact]
    public async Task An_unknown_or_foreign_file_is_a_404_naming_it_and_nothing_is_created()
    {
        var client = factory.NewUser();
        var ids = await client.UploadManyAsync(3);
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var foreign = (string)(await factory.NewUser().UploadAsync("/v1", "theirs.txt", "not yours"))["id"]!;
        const string missing = "file-000000000000000000000000";

        foreach (var bad in new[] { missing, foreign })
        {
            foreach (var body in new[]
            {
                $$"""{"file_ids":["{{ids[0]}}","{{bad}}","{{ids[1]}}"]}""",
                $$"""{"files":[{"file_id":"{{ids[2]}}"},{"file_id":"{{bad}}"}]}""",
            })
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await client.PostAsync($"/v1/vector_stores/{storeId}/file_batches", content, Ct);
                var error = await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "file_id");
                Assert.Contains(bad, (string?)error["error"]!["message"]);
            }
        }

        await AssertNothingCreatedAsync(client, storeId);
    }

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task Malformed_or_foreign_batch_ids_are_400s_and_404s(string prefix)
    {
        var owner = factory.NewUser();
        var ids = await owner.UploadManyAsync(1, prefix);
        var storeId = (string)(await owner.CreateStoreAsync(prefix))["id"]!;
        var batchId = (string)(await owner.CreateBatchAsync(storeId, ids, prefix))["id"]!;
        var otherStore = (string)(await owner.CreateStoreAsync(prefix))["id"]!;
        var intruder = factory.NewUser();

        foreach (var (method, suffix) in new[] { (HttpMethod.Get, ""), (HttpMethod.Post, "/cancel"), (HttpMethod.Get, "/files") })
        {
            using (var response = await owner.SendAsync(new HttpRequestMessage(method, $"{prefix}/vector_stores/{storeId}/file_batches/{storeId}{suffix}"), Ct))
            {
                var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "batch_id", "invalid_id");
                Assert.Contains("vsfb_", (string?)error["error"]!["message"]);
            }

            // A batch is found only under its own store, and only by its owner.
            using (var response = await owner.SendAsync(new HttpRequestMessage(method, $"{prefix}/vector_stores/{otherStore}/file_batches/{batchId}{suffix}"), Ct))
            {
                await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "batch_id");
            }

            using (var response = await intruder.SendAsync(new HttpRequestMessage(method, $"{prefix}/vector_stores/{storeId}/file_batches/{batchId}{suffix}"), Ct))
            {
                await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
            }
        }
    }

    [Fact]
    public async Task Batch_files_filter_by_status_and_paginate_both_ways()
    {
        var client = factory.NewUser();
        var good = await client.UploadManyAsync(5);
        var blank = (string)(await client.UploadAsync("/v1", "blank.txt", "  \n\n "))["id"]!;
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var batchId = (string)(await client.CreateBatchAsync(storeId, [.. good, blank]))["id"]!;
        var done = await client.WaitForBatchAsync("/v1", storeId, batchId);
        Assert.Equal("completed", (string?)done["status"]);
        Assert.Equal("""{"in_progress":0,"completed":5,"failed":1,"cancelled":0,"total":6}""", done["file_counts"]!.ToJsonString());

        var url = $"/v1/vector_stores/{storeId}/file_batches/{batchId}/files";
        Assert.Equal(new[] { blank }, (await client.GetJsonAsync($"{url}?filter=failed")).Ids());
        Assert.Equal(good.Order(StringComparer.Ordinal).ToArray(), (await client.GetJsonAsync($"{url}?filter=completed&order=asc")).Ids());
        Assert.Empty((await client.GetJsonAsync($"{url}?filter=cancelled")).Ids());
        Assert.Empty((await client.GetJsonAsync($"{url}?filter=in_progress")).Ids());
        using (var response = await client.GetAsync($"{url}?filter=done", Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "filter");
        }

        var all = await client.GetJsonAsync(url);
        Assert.Equal("list", (string?)all["object"]);
        Assert.All(all["data"]!.AsArray(), f => Assert.Equal("vector_store.file", (string?)f!["object"]));
        var desc = all.Ids();
        Assert.Equal(6, desc.Length);
        Assert.Equal(desc[0], (string?)all["first_id"]);
        Assert.Equal(desc[^1], (string?)all["last_id"]);
        Assert.False((bool)all["has_more"]!);

        // Forward in pages of 2 (asc), then back with `before` from the end.
        var asc = Enumerable.Reverse(desc).ToArray();
        var collected = new List<string>();
        string? after = null;
        for (var page = 0; page < 3; page++)
        {
            var list = await client.GetJsonAsync($"{url}?limit=2&order=asc" + (after is null ? "" : $"&after={after}"));
            collected.AddRange(list.Ids());
            Assert.Equal(page < 2, (bool)list["has_more"]!);
            after = (string?)list["last_id"];
        }

        Assert.Equal(asc, collected);
        var before = await client.GetJsonAsync($"{url}?limit=2&order=asc&before={asc[4]}");
        Assert.Equal(asc[2..4], before.Ids());
        Assert.True((bool)before["has_more"]!);
        var descPage = await client.GetJsonAsync($"{url}?limit=3&after={desc[1]}");
        Assert.Equal(desc[2..5], descPage.Ids());

        using var badLimit = await client.GetAsync($"{url}?limit=101", Ct);
        await badLimit.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "limit");
    }

    [Fact]
    public async Task Poll_hint_is_sent_while_in_progress_and_not_after()
    {
        await using var local = new TFactory();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        local.Embedder.Gate = gate;
        var client = local.NewUser();
        var ids = await client.UploadManyAsync(2);
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var batchId = (string)(await client.CreateBatchAsync(storeId, ids))["id"]!;

        foreach (var url in new[] { $"/v1/vector_stores/{storeId}/file_batches/{batchId}", $"/v1/vector_stores/{storeId}/files/{ids[0]}" })
        {
            using var response = await client.GetAsync(url, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.TryGetValues("openai-poll-after-ms", out var values), $"no poll hint on {url}");
            Assert.True(int.Parse(values.Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        }

        gate.SetResult();
        await client.WaitForBatchAsync("/v1", storeId, batchId);
        foreach (var url in new[] { $"/v1/vector_stores/{storeId}/file_batches/{batchId}", $"/v1/vector_stores/{storeId}/files/{ids[0]}" })
        {
            using var response = await client.GetAsync(url, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("openai-poll-after-ms"), $"poll hint still sent on {url}");
        }
    }

    [Fact]
    public async Task A_retried_create_with_the_same_idempotency_key_returns_the_same_batch()
    {
        await using var local = new TFactory();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        local.Embedder.Gate = gate;
        var client = local.NewUser();
        var ids = await client.UploadManyAsync(3);
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var body = $$"""{"file_ids":{{BatchTestKit.FileIdsJson(ids)}}}""";

        async Task<string> PostAsync(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/vector_stores/{storeId}/file_batches")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await client.SendAsync(request, Ct);
            return (string)(await response.ReadJsonAsync(HttpStatusCode.OK))["id"]!;
        }

        var first = await PostAsync("retry-1");
        var generations = await local.ScalarAsync("SELECT SUM(generation) FROM vector_store_files WHERE vector_store_id = @s", ("@s", storeId));
        Assert.Equal(first, await PostAsync("retry-1"));
        Assert.Equal(first, await PostAsync("retry-1"));
        Assert.Equal(1, await local.CountBatchesAsync(storeId));
        Assert.Equal(3, await local.CountMembersAsync(storeId));
        Assert.Equal(3, await local.CountJobsAsync(storeId));
        // Not re-attached: a re-attach would bump every file's generation.
        Assert.Equal(generations, await local.ScalarAsync("SELECT SUM(generation) FROM vector_store_files WHERE vector_store_id = @s", ("@s", storeId)));

        gate.SetResult();
        Assert.Equal("""{"in_progress":0,"completed":3,"failed":0,"cancelled":0,"total":3}""",
            (await client.WaitForBatchAsync("/v1", storeId, first))["file_counts"]!.ToJsonString());
        // A retry after completion still answers with the same batch and starts nothing.
        Assert.Equal(first, await PostAsync("retry-1"));
        Assert.Equal(0, await local.CountJobsAsync(storeId));

        // A different key is a different batch.
        Assert.NotEqual(first, await PostAsync("retry-2"));
        Assert.Equal(2, await local.CountBatchesAsync(storeId));
    }

    private async Task AssertNothingCreatedAsync(HttpClient client, string storeId)
    {
        Assert.Empty((await client.GetJsonAsync($"/v1/vector_stores/{storeId}/files")).Ids());
        var store = await client.GetJsonAsync($"/v1/vector_stores/{storeId}");
        Assert.Equal(0, store.Count("total"));
        Assert.Equal(0, await factory.CountJobsAsync(storeId));
        Assert.Equal(0, await factory.CountBatchesAsync(storeId));
        Assert.Equal(0, await factory.CountMembersAsync(storeId));
    }
}

public sealed class BatchCreateTests(QuiverFactory factory) : BatchCreateContract<QuiverFactory>(factory);

/// <summary>The same contract on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class BatchCreatePostgresTests : BatchCreateContract<PostgresQuiverFactory>
{
    public BatchCreatePostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();
}
