using System.Net;
using System.Text;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Hostile;

/// <summary>
/// Cross-tenant id probing: four principals (two users of one project key, the same user name under a second
/// project's key, and that key without an end user) each own a store with a completed file and a batch. Every
/// principal then aims every route at every other principal's ids, and at random well-formed ids, in both
/// dialects. Asserted: every probe is a 404 with the error envelope (no 403, which would confirm the id exists),
/// no list shows another principal's object, and every owner's objects are unchanged afterwards.
/// </summary>
public abstract class CrossTenantProbeContract(QuiverFactory factory) : IAsyncLifetime
{
    private sealed record Tenant(string Name, HttpClient Client, string Store, string File, string Batch);

    private readonly List<Tenant> _tenants = [];
    private readonly List<string> _leaks = [];
    private int _probes;

    public async ValueTask InitializeAsync()
    {
        using var admin = factory.CreateApiClient();
        using var keyResponse = await admin.PostAsync("/api/v1/admin/keys",
            new StringContent("""{"name":"tenant-b","project":"tenant-b"}""", Encoding.UTF8, "application/json"), Ct);
        var secondKey = (string)(await keyResponse.ReadJsonAsync(HttpStatusCode.OK))["secret"]!;

        var principals = new (string Name, HttpClient Client)[]
        {
            ("project A / alice", factory.CreateApiClient(onBehalfOf: "alice")),
            ("project A / bob", factory.CreateApiClient(onBehalfOf: "bob")),
            ("project B / alice", factory.CreateApiClient(secondKey, onBehalfOf: "alice")),
            ("project B key itself", factory.CreateApiClient(secondKey)),
        };
        foreach (var (name, client) in principals)
        {
            var store = (string)(await client.CreateStoreAsync("/v1", """{"name":"private"}"""))["id"]!;
            var file = (string)(await client.UploadAsync("/v1", "secret.md", $"The private notes of {name}: crimson heron."))["id"]!;
            var batch = (string)(await client.PostJsonAsync($"/v1/vector_stores/{store}/file_batches", $$"""{"file_ids":["{{file}}"]}"""))["id"]!;
            await client.WaitForBatchAsync("/v1", store, batch);
            _tenants.Add(new Tenant(name, client, store, file, batch));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var tenant in _tenants)
        {
            tenant.Client.Dispose();
        }

        await factory.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task No_principal_can_see_touch_or_confirm_another_principals_ids()
    {
        var before = await OwnViewsAsync();
        var random = new Random(7);
        foreach (var prober in _tenants)
        {
            var targets = _tenants.Where(t => t != prober)
                .Select(t => (t.Name, t.Store, t.File, t.Batch))
                .Append(("random ids", "vs_" + RandomId(random), "file-" + RandomId(random), "vsfb_" + RandomId(random)));
            foreach (var (owner, store, file, batch) in targets)
            {
                foreach (var prefix in new[] { "/v1", "/api/v1/llm" })
                {
                    await ProbeAsync(prober, owner, prefix, store, file, batch);
                }
            }

            await ListsShowOnlyOwnAsync(prober);
        }

        Assert.True(_probes >= 300, $"only {_probes} probes");
        Assert.True(_leaks.Count == 0, $"{_leaks.Count} of {_probes} probes leaked:\n{string.Join("\n", _leaks.Take(40))}");
        Assert.Equal(before, await OwnViewsAsync());
    }

    private async Task ProbeAsync(Tenant prober, string owner, string p, string store, string file, string batch)
    {
        var own = prober.File;
        var probes = new (HttpMethod Method, string Path, string? Body)[]
        {
            (HttpMethod.Get, $"{p}/vector_stores/{store}", null),
            (HttpMethod.Get, $"{p}/files/{file}", null),
            (HttpMethod.Get, $"{p}/files/{file}/content", null),
            (HttpMethod.Get, $"{p}/vector_stores/{store}/files", null),
            (HttpMethod.Get, $"{p}/vector_stores/{store}/files/{file}", null),
            (HttpMethod.Get, $"{p}/vector_stores/{store}/files/{file}/content", null),
            (HttpMethod.Get, $"{p}/vector_stores/{store}/file_batches/{batch}", null),
            (HttpMethod.Get, $"{p}/vector_stores/{store}/file_batches/{batch}/files", null),
            (HttpMethod.Post, $"{p}/vector_stores/{store}/search", """{"query":"crimson heron"}"""),
            (HttpMethod.Post, $"{p}/vector_stores/{store}", """{"name":"taken over"}"""),
            (HttpMethod.Post, $"{p}/vector_stores/{store}/files", $$"""{"file_id":"{{own}}"}"""),
            (HttpMethod.Post, $"{p}/vector_stores/{prober.Store}/files", $$"""{"file_id":"{{file}}"}"""),
            (HttpMethod.Post, $"{p}/vector_stores/{prober.Store}/file_batches", $$"""{"file_ids":["{{file}}"]}"""),
            (HttpMethod.Post, $"{p}/vector_stores/{store}/files/{file}", """{"attributes":{"owned":"no"}}"""),
            (HttpMethod.Post, $"{p}/vector_stores/{store}/file_batches", $$"""{"file_ids":["{{own}}"]}"""),
            (HttpMethod.Post, $"{p}/vector_stores/{store}/file_batches/{batch}/cancel", null),
            (HttpMethod.Delete, $"{p}/vector_stores/{store}/files/{file}", null),
            (HttpMethod.Delete, $"{p}/files/{file}", null),
            (HttpMethod.Delete, $"{p}/vector_stores/{store}", null),
        };
        foreach (var (method, path, body) in probes)
        {
            _probes++;
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var response = await prober.Client.SendAsync(request, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            if (response.StatusCode != HttpStatusCode.NotFound || !text.Contains("\"type\":\"invalid_request_error\"", StringComparison.Ordinal)
                || text.Contains("crimson", StringComparison.Ordinal))
            {
                _leaks.Add($"{prober.Name} → {owner}: {method} {path}: {(int)response.StatusCode} {text[..Math.Min(text.Length, 160)]}");
            }
        }

        foreach (var (resourceType, id) in new[] { ("vector_store", store), ("file", file) })
        {
            _probes++;
            using var grant = await prober.Client.PostAsync("/api/v1/authorization/llm/grant", new StringContent(
                $$"""{"resourceType":"{{resourceType}}","resourceId":"{{id}}","userId":"*","role":"reader"}""", Encoding.UTF8, "application/json"), Ct);
            if (grant.StatusCode != HttpStatusCode.NotFound)
            {
                _leaks.Add($"{prober.Name} → {owner}: grant on {resourceType} {id}: {(int)grant.StatusCode}");
            }
        }
    }

    private async Task ListsShowOnlyOwnAsync(Tenant prober)
    {
        var others = _tenants.Where(t => t != prober).SelectMany(t => new[] { t.Store, t.File, t.Batch }).ToHashSet();
        foreach (var path in new[] { "/v1/vector_stores?limit=100", "/v1/files", "/api/v1/llm/vector_stores?limit=100", "/api/v1/llm/files",
            "/api/v1/authorization/llm/list?resourceType=vector_store", "/api/v1/authorization/llm/list?resourceType=file" })
        {
            _probes++;
            var text = await prober.Client.GetStringAsync(path, Ct);
            foreach (var id in others.Where(id => text.Contains(id, StringComparison.Ordinal)))
            {
                _leaks.Add($"{prober.Name}: {path} lists {id}");
            }
        }

        _probes++;
        var search = await prober.Client.PostJsonAsync($"/v1/vector_stores/{prober.Store}/search", """{"query":"crimson heron private notes","max_num_results":50}""");
        var hits = search["data"]!.AsArray().Select(h => (string)h!["file_id"]!).Distinct().ToList();
        if (hits.Any(id => id != prober.File))
        {
            _leaks.Add($"{prober.Name}: search of its own store returned {string.Join(", ", hits)}");
        }
    }

    /// <summary>Each owner's store, file and batch as the owner sees them (without the activity times that reads and searches move).</summary>
    private async Task<string> OwnViewsAsync()
    {
        var views = new StringBuilder();
        foreach (var tenant in _tenants)
        {
            foreach (var path in new[] { $"/v1/vector_stores/{tenant.Store}", $"/v1/files/{tenant.File}", $"/v1/vector_stores/{tenant.Store}/files",
                $"/v1/vector_stores/{tenant.Store}/file_batches/{tenant.Batch}" })
            {
                var json = await tenant.Client.GetJsonAsync(path);
                json.Remove("last_active_at");
                json.Remove("last_used_at");
                views.AppendLine($"{tenant.Name} {path}: {json.ToJsonString()}");
            }
        }

        return views.ToString();
    }

    private static string RandomId(Random random)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return new string(Enumerable.Range(0, 24).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
    }
}

/// <summary>Cross-tenant probing on the embedded backend.</summary>
public sealed class CrossTenantProbeTests() : CrossTenantProbeContract(new QuiverFactory());

/// <summary>Cross-tenant probing on PostgreSQL.</summary>
public sealed class CrossTenantProbePostgresTests : CrossTenantProbeContract
{
    public CrossTenantProbePostgresTests()
        : base(new PostgresQuiverFactory()) => PostgresTestServer.RequireOrSkip();
}
