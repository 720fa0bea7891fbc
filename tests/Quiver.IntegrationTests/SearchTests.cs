using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Quiver.Core.VectorStores;
using Quiver.IntegrationTests.Ingestion;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>Search on the embedded backend.</summary>
public sealed class SearchTests(QuiverFactory factory) : SearchContract<QuiverFactory>(factory);

/// <summary>The same search contract on PostgreSQL (pgvector + tsvector; skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class SearchPostgresTests : SearchContract<PostgresQuiverFactory>
{
    public SearchPostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();
}

/// <summary>Search through HTTP on the deterministic test embedder (bag-of-words vectors) plus lexical ranking, on each backend.</summary>
public abstract class SearchContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    private HttpClient NewUser() => factory.CreateApiClient(onBehalfOf: "user-" + Guid.NewGuid().ToString("N"));

    private static readonly (string Name, string Text, string Attributes)[] Corpus =
    [
        ("passwords.md", "Reset your password from Settings then Security. Passwords expire every 90 days.", """{"category":"security","year":2023,"public":true}"""),
        ("billing.md", "Invoices are emailed monthly. Update the billing address under Account then Billing.", """{"category":"billing","year":2024,"public":false}"""),
        ("shipping.md", "Orders ship within two business days. Tracking numbers arrive by email.", """{"category":"logistics","year":2022,"public":true}"""),
        ("returns.md", "Returns are accepted within 30 days of delivery with the original receipt.", """{"category":"logistics","year":2024,"public":true}"""),
    ];

    private async Task<(HttpClient Client, string StoreId, Dictionary<string, string> Files)> SeedAsync(string prefix)
    {
        var client = NewUser();
        var storeId = (string)(await client.CreateStoreAsync(prefix))["id"]!;
        var files = new Dictionary<string, string>();
        foreach (var (name, text, attributes) in Corpus)
        {
            var fileId = (string)(await client.UploadAsync(prefix, name, text))["id"]!;
            await client.AttachAsync(prefix, storeId, fileId, ",\"attributes\":" + attributes);
            files[name] = fileId;
        }

        foreach (var fileId in files.Values)
        {
            Assert.Equal("completed", (string?)(await client.WaitForFileAsync(prefix, storeId, fileId))["status"]);
        }

        return (client, storeId, files);
    }

    private static Task<JsonObject> SearchAsync(HttpClient client, string prefix, string storeId, string body) =>
        client.PostJsonAsync($"{prefix}/vector_stores/{storeId}/search", body);

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task Search_finds_the_relevant_file_in_the_dialects_shape(string prefix)
    {
        var (client, storeId, files) = await SeedAsync(prefix);
        var page = await SearchAsync(client, prefix, storeId, """{"query":"how do I reset my password"}""");
        Assert.Equal("vector_store.search_results.page", (string?)page["object"]);
        Assert.False((bool)page["has_more"]!);
        Assert.Null((string?)page["next_page"]);
        if (prefix == "/v1")
        {
            Assert.Equal("""["how do I reset my password"]""", page["search_query"]!.ToJsonString());
        }
        else
        {
            Assert.Equal("how do I reset my password", (string?)page["search_query"]);
        }

        var data = page["data"]!.AsArray();
        Assert.NotEmpty(data);
        var top = data[0]!;
        Assert.Equal(files["passwords.md"], (string?)top["file_id"]);
        Assert.Equal("passwords.md", (string?)top["filename"]);
        Assert.Equal("""{"category":"security","year":2023,"public":true}""", top["attributes"]!.ToJsonString());
        Assert.Contains("Reset your password", (string?)top["content"]![0]!["text"]);
        Assert.Equal("text", (string?)top["content"]![0]!["type"]);
        var scores = data.Select(d => (double)d!["score"]!).ToList();
        Assert.All(scores, s => Assert.InRange(s, 0, 1));
        Assert.Equal(scores.OrderByDescending(s => s), scores);
    }

    [Theory]
    [InlineData("""{"type":"eq","key":"category","value":"logistics"}""", new[] { "shipping.md", "returns.md" })]
    [InlineData("""{"type":"ne","key":"category","value":"logistics"}""", new[] { "passwords.md", "billing.md" })]
    [InlineData("""{"type":"gte","key":"year","value":2024}""", new[] { "billing.md", "returns.md" })]
    [InlineData("""{"type":"lt","key":"year","value":2023}""", new[] { "shipping.md" })]
    [InlineData("""{"type":"eq","key":"public","value":false}""", new[] { "billing.md" })]
    [InlineData("""{"type":"in","key":"category","value":["billing","security"]}""", new[] { "passwords.md", "billing.md" })]
    [InlineData("""{"type":"nin","key":"year","value":[2022,2023]}""", new[] { "billing.md", "returns.md" })]
    [InlineData("""{"type":"eq","key":"year","value":"2024"}""", new string[0])]
    [InlineData("""{"type":"eq","key":"missing","value":"x"}""", new string[0])]
    [InlineData("""{"type":"and","filters":[{"type":"eq","key":"public","value":true},{"type":"or","filters":[{"type":"eq","key":"year","value":2022},{"type":"eq","key":"category","value":"security"}]}]}""", new[] { "passwords.md", "shipping.md" })]
    [InlineData("""{"type":"eq","key":"category'; DROP TABLE chunks;--","value":"x' OR '1'='1"}""", new string[0])]
    public async Task Filters_are_applied_before_the_top_k_cut(string filter, string[] expected)
    {
        var (client, storeId, files) = await SeedAsync("/v1");
        // A query that matches nothing in particular: every allowed file must still come back (min(N, k)).
        var page = await SearchAsync(client, "/v1", storeId, $$"""{"query":"zebra quantum", "max_num_results": 50, "filters": {{filter}}}""");
        var found = page["data"]!.AsArray().Select(d => (string)d!["file_id"]!).Distinct().ToHashSet();
        Assert.Equal(expected.Select(name => files[name]).ToHashSet(), found);

        // The injection attempt was data, nothing else: the store is intact.
        Assert.Equal(4, (await client.GetJsonAsync($"/v1/vector_stores/{storeId}")).Count("completed"));
    }

    [Fact]
    public async Task Max_num_results_threshold_array_queries_and_rewrite()
    {
        var (client, storeId, files) = await SeedAsync("/v1");
        var one = await SearchAsync(client, "/v1", storeId, """{"query":"password","max_num_results":1}""");
        Assert.Single(one["data"]!.AsArray());

        var all = await SearchAsync(client, "/v1", storeId, """{"query":"zebra","max_num_results":50}""");
        Assert.Equal(4, all["data"]!.AsArray().Count);
        var strict = await SearchAsync(client, "/v1", storeId, """{"query":"zebra","max_num_results":50,"ranking_options":{"score_threshold":0.99}}""");
        Assert.All(strict["data"]!.AsArray(), d => Assert.True((double)d!["score"]! >= 0.99));
        Assert.True(strict["data"]!.AsArray().Count < 4);

        var multi = await SearchAsync(client, "/api/v1/llm", storeId, """{"query":["reset password","return receipt"],"max_num_results":2}""");
        Assert.Equal("reset password return receipt", (string?)multi["search_query"]);
        Assert.Equal(new[] { files["passwords.md"], files["returns.md"] }.ToHashSet(),
            multi["data"]!.AsArray().Select(d => (string)d!["file_id"]!).ToHashSet());

        var rewritten = await SearchAsync(client, "/v1", storeId, """{"query":"Can you please tell me: what is the RETURN policy?","rewrite_query":true}""");
        var used = (string)rewritten["search_query"]![0]!;
        Assert.DoesNotContain("please", used);
        Assert.Contains("return", used);
        Assert.Equal(files["returns.md"], (string?)rewritten["data"]![0]!["file_id"]);

        var dense = await SearchAsync(client, "/v1", storeId, """{"query":"billing address","ranking_options":{"ranker":"none"}}""");
        Assert.Equal(files["billing.md"], (string?)dense["data"]![0]!["file_id"]);
        var weighted = await SearchAsync(client, "/v1", storeId, """{"query":"billing address","ranking_options":{"hybrid_search":{"embedding_weight":0.3,"text_weight":0.7}}}""");
        Assert.Equal(files["billing.md"], (string?)weighted["data"]![0]!["file_id"]);
    }

    [Fact]
    public async Task Attribute_updates_and_detach_are_visible_to_the_next_search()
    {
        var (client, storeId, files) = await SeedAsync("/v1");
        const string filter = """{"query":"anything","max_num_results":50,"filters":{"type":"eq","key":"category","value":"archived"}}""";
        Assert.Empty((await SearchAsync(client, "/v1", storeId, filter))["data"]!.AsArray());

        await client.PostJsonAsync($"/v1/vector_stores/{storeId}/files/{files["billing.md"]}", """{"attributes":{"category":"archived"}}""");
        var page = await SearchAsync(client, "/v1", storeId, filter);
        Assert.Equal([files["billing.md"]], page["data"]!.AsArray().Select(d => (string)d!["file_id"]!).Distinct());

        await client.DeleteAsync($"/v1/vector_stores/{storeId}/files/{files["passwords.md"]}", Ct);
        var after = await SearchAsync(client, "/v1", storeId, """{"query":"reset password","max_num_results":50}""");
        Assert.DoesNotContain(files["passwords.md"], after["data"]!.AsArray().Select(d => (string)d!["file_id"]!));
    }

    [Theory]
    [InlineData("""{}""", "query")]
    [InlineData("""{"query":""}""", "query")]
    [InlineData("""{"query":[]}""", "query")]
    [InlineData("""{"query":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}""", "query")]
    [InlineData("""{"query":"a","max_num_results":0}""", "max_num_results")]
    [InlineData("""{"query":"a","max_num_results":51}""", "max_num_results")]
    [InlineData("""{"query":"a","filters":{"type":"like","key":"a","value":"b"}}""", "filters")]
    [InlineData("""{"query":"a","filters":{"type":"gt","key":"a","value":true}}""", "filters")]
    [InlineData("""{"query":"a","filters":{"type":"in","key":"a","value":[]}}""", "filters")]
    [InlineData("""{"query":"a","filters":{"type":"and","filters":[]}}""", "filters")]
    [InlineData("""{"query":"a","ranking_options":{"ranker":"best"}}""", "ranking_options")]
    [InlineData("""{"query":"a","ranking_options":{"score_threshold":1.5}}""", "ranking_options")]
    public async Task Invalid_search_requests_are_400s(string body, string param)
    {
        var client = NewUser();
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"/v1/vector_stores/{storeId}/search", content, Ct);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", param);
    }

    [Fact]
    public async Task Filters_nested_deeper_than_8_are_rejected()
    {
        var filter = """{"type":"eq","key":"a","value":1}""";
        for (var i = 0; i < 8; i++)
        {
            filter = $$"""{"type":"and","filters":[{{filter}}]}""";
        }

        var client = NewUser();
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        using var content = new StringContent($$"""{"query":"a","filters":{{filter}}}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"/v1/vector_stores/{storeId}/search", content, Ct);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "filters");
    }

    [Fact]
    public async Task Another_principals_store_cannot_be_searched()
    {
        var (_, storeId, _) = await SeedAsync("/v1");
        using var content = new StringContent("""{"query":"password"}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await NewUser().PostAsync($"/v1/vector_stores/{storeId}/search", content, Ct);
        await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
    }
}

/// <summary>Search moves a store's <c>last_active_at</c> and <c>last_used_at</c> (D10), on the embedded backend.</summary>
public sealed class SearchActivityTests : SearchActivityContract<QuiverFactory>;

/// <summary>The same on PostgreSQL.</summary>
public sealed class SearchActivityPostgresTests : SearchActivityContract<PostgresQuiverFactory>
{
    public SearchActivityPostgresTests() => PostgresTestServer.RequireOrSkip();
}

/// <summary>Activity timestamps have one-second resolution, so the clock is a fake one moved by hand rather than slept on.</summary>
public abstract class SearchActivityContract<TFactory>
    where TFactory : QuiverFactory, new()
{
    [Fact]
    public async Task Search_moves_last_active_at_and_last_used_at_to_now()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = new TFactory { ConfigureTestServices = services => services.AddSingleton<TimeProvider>(clock) };
        var client = factory.NewUser();
        var fileId = (string)(await client.UploadAsync("/v1", "a.txt", "Pelicans fly over the harbour at dawn."))["id"]!;
        var storeId = (string)(await client.CreateStoreAsync("/v1", $$"""{"file_ids":["{{fileId}}"]}"""))["id"]!;
        Assert.Equal("completed", (string?)(await client.WaitForFileAsync("/v1", storeId, fileId))["status"]);
        var created = clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(created, (long)(await client.GetJsonAsync($"/v1/vector_stores/{storeId}"))["last_active_at"]!);

        clock.Advance(TimeSpan.FromMinutes(5));
        await client.PostJsonAsync($"/v1/vector_stores/{storeId}/search", """{"query":"pelicans"}""");

        var after = await client.GetJsonAsync($"/v1/vector_stores/{storeId}");
        Assert.Equal(created + 300, (long)after["last_active_at"]!);
        Assert.Equal(created + 300, (long)after["last_used_at"]!);

        // The read path defers the write; once flushed it is in the store's row (what another process reads).
        await factory.Services.GetRequiredService<StoreActivityFlusher>().FlushAsync(Ct);
        Assert.Equal(created + 300, await factory.ScalarAsync("SELECT last_active_at FROM vector_stores WHERE id = @s", ("@s", storeId)));
    }
}
