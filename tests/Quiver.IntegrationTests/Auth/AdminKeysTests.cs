using System.Net;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Auth;

public sealed class AdminKeysTests(QuiverFactory factory) : AdminKeysContract<QuiverFactory>(factory);

public sealed class AdminKeysPostgresTests : AdminKeysContract<PostgresQuiverFactory>
{
    public AdminKeysPostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();
}

/// <summary>Key administration over HTTP for admin keys: create, list, retrieve, revoke; everyone else gets 403.</summary>
public abstract class AdminKeysContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    [Fact]
    public async Task An_admin_key_creates_lists_retrieves_and_revokes_keys()
    {
        var admin = factory.CreateApiClient();
        var created = await admin.PostJsonAsync("/api/v1/admin/keys",
            """{"name":"ingest-bot","project":"acme","rate_limit":"5000/h, 10/s","permissions":["files:read","files:read","vector_stores:write"]}""");
        var id = (string)created["id"]!;
        var secret = (string)created["secret"]!;
        Assert.StartsWith("key_", id);
        Assert.StartsWith("qvr_", secret);
        Assert.Equal("api_key", (string?)created["object"]);
        Assert.Equal("ingest-bot", (string?)created["name"]);
        Assert.Equal("acme", (string?)created["project"]);
        Assert.False((bool)created["admin"]!);
        Assert.Equal("10/s,5000/h", (string?)created["rate_limit"]);
        Assert.Equal("""["files:read","vector_stores:write"]""", created["permissions"]!.ToJsonString());
        Assert.Null(created["revoked_at"]);

        // The new key works, in its own project.
        var user = factory.Bearer(secret);
        var storeId = (string)(await user.PostJsonAsync("/v1/vector_stores", """{"name":"acme store"}"""))["id"]!;
        using (var elsewhere = await admin.GetAsync($"/v1/vector_stores/{storeId}", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        }

        // Listed (without its secret) and retrievable.
        var list = await admin.GetJsonAsync("/api/v1/admin/keys");
        Assert.Equal("list", (string?)list["object"]);
        var listed = list["data"]!.AsArray().Single(k => (string?)k!["id"] == id)!.AsObject();
        Assert.False(listed.ContainsKey("secret"));
        Assert.Equal("10/s,5000/h", (string?)listed["rate_limit"]);
        Assert.Equal([id], (await admin.GetJsonAsync("/api/v1/admin/keys?project=acme")).Ids().Where(k => k == id));
        Assert.Equal(id, (string?)(await admin.GetJsonAsync($"/api/v1/admin/keys/{id}"))["id"]);

        // Revoked: 401 on the very next request; shown with revoked_at; a second revoke is 404.
        using (var revoke = await admin.DeleteAsync($"/api/v1/admin/keys/{id}", Ct))
        {
            var deleted = await revoke.ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal($$"""{"id":"{{id}}","object":"api_key.deleted","deleted":true}""", deleted.ToJsonString());
        }

        using (var after = await user.GetAsync("/v1/vector_stores", Ct))
        {
            await after.AssertErrorAsync(HttpStatusCode.Unauthorized, "authentication_error", null, "invalid_api_key");
        }

        Assert.NotNull((await admin.GetJsonAsync($"/api/v1/admin/keys/{id}"))["revoked_at"]);
        using (var again = await admin.DeleteAsync($"/api/v1/admin/keys/{id}", Ct))
        {
            await again.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "key_id");
        }
    }

    [Fact]
    public async Task Created_admin_keys_can_administer_and_plain_keys_and_tokens_get_403()
    {
        var (_, adminSecret) = await factory.CreateKeyAsync("""{"name":"second-admin","admin":true}""");
        Assert.Equal("list", (string?)(await factory.Bearer(adminSecret).GetJsonAsync("/api/v1/admin/keys"))["object"]);

        var (plainId, plain) = await factory.CreateKeyAsync("""{"name":"plain"}""");
        var adminToken = await factory.ExchangeAsync(adminSecret, "someone");
        foreach (var credential in new[] { plain, adminToken })
        {
            var client = factory.Bearer(credential);
            foreach (var (method, url) in new[]
                     {
                         (HttpMethod.Get, "/api/v1/admin/keys"), (HttpMethod.Post, "/api/v1/admin/keys"),
                         (HttpMethod.Get, $"/api/v1/admin/keys/{plainId}"), (HttpMethod.Post, $"/api/v1/admin/keys/{plainId}"), (HttpMethod.Delete, $"/api/v1/admin/keys/{plainId}"),
                         (HttpMethod.Get, "/api/v1/admin/signing_keys"), (HttpMethod.Post, "/api/v1/admin/signing_keys/rotate"),
                     })
            {
                using var request = new HttpRequestMessage(method, url) { Content = method == HttpMethod.Post ? new StringContent("""{"name":"x"}""", System.Text.Encoding.UTF8, "application/json") : null };
                using var response = await client.SendAsync(request, Ct);
                await response.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", null, "admin_key_required");
            }
        }

        // Nothing changed: the plain key still works.
        Assert.Equal("list", (string?)(await factory.Bearer(plain).GetJsonAsync("/v1/files"))["object"]);
    }

    [Theory]
    [InlineData("""{}""", "name", "missing_required_parameter")]
    [InlineData("""{"name":""}""", "name", "missing_required_parameter")]
    [InlineData("""{"name":5}""", "name", "invalid_type")]
    [InlineData("""{"name":"tab\there"}""", "name", "invalid_value")]
    [InlineData("""{"name":"k","project":""}""", "project", "invalid_value")]
    [InlineData("""{"name":"k","admin":"yes"}""", "admin", "invalid_type")]
    [InlineData("""{"name":"k","rate_limit":"10 per second"}""", "rate_limit", "invalid_rate_limit")]
    [InlineData("""{"name":"k","rate_limit":"10/s,20/s"}""", "rate_limit", "invalid_rate_limit")]
    [InlineData("""{"name":"k","rate_limit":10}""", "rate_limit", "invalid_type")]
    [InlineData("""{"name":"k","permissions":["has space"]}""", "permissions", "invalid_value")]
    [InlineData("""{"name":"k","permissions":"files:read"}""", "permissions", "invalid_type")]
    public async Task Invalid_create_bodies_are_400_and_create_nothing(string body, string param, string code)
    {
        var admin = factory.CreateApiClient();
        var before = (await admin.GetJsonAsync("/api/v1/admin/keys"))["data"]!.AsArray().Count;
        using var response = await admin.PostAsync("/api/v1/admin/keys", body);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", param, code);
        Assert.Equal(before, (await admin.GetJsonAsync("/api/v1/admin/keys"))["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Unknown_and_malformed_key_ids_are_404_and_400()
    {
        var admin = factory.CreateApiClient();
        using (var unknown = await admin.GetAsync("/api/v1/admin/keys/key_000000000000000000000000", Ct))
        {
            await unknown.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "key_id");
        }

        using var malformed = await admin.DeleteAsync("/api/v1/admin/keys/vs_abc", Ct);
        await malformed.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "key_id", "invalid_id");
    }
}
