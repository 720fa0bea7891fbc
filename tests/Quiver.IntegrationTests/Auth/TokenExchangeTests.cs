using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quiver.Core.Keys;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Auth.AuthTestKit;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Auth;

public sealed class TokenExchangeTests : TokenExchangeContract<QuiverFactory>;

public sealed class TokenExchangePostgresTests : TokenExchangeContract<PostgresQuiverFactory>
{
    public TokenExchangePostgresTests() => PostgresTestServer.RequireOrSkip();
}

/// <summary>
/// API key → JWT exchange (MKA1 §1.2) and tokens as Bearer credentials: the claims, every
/// validation error, the end user as principal, and every way a token is refused (401).
/// </summary>
public abstract class TokenExchangeContract<TFactory>
    where TFactory : QuiverFactory, new()
{
    [Fact]
    public async Task Exchange_issues_an_ES256_token_with_the_documented_claims()
    {
        var clock = NewClock();
        await using var factory = WithClock<TFactory>(clock);
        var (keyId, secret) = await factory.CreateKeyAsync("""{"name":"svc","project":"proj-a","permissions":["files:read","vector_stores:read"]}""");

        var answer = await factory.Bearer(secret).PostJsonAsync(ExchangePath,
            """{"audience":"urn:quiver","externalUserId":"user_123","expiresIn":600,"permissions":["files:read"]}""");
        var (header, payload) = Decode((string)answer["token"]!);
        Assert.Equal("ES256", (string?)header["alg"]);
        Assert.Equal("JWT", (string?)header["typ"]);
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal("quiver", (string?)payload["iss"]);
        Assert.Equal("urn:quiver", (string?)payload["aud"]);
        Assert.Equal("user_123", (string?)payload["sub"]);
        Assert.Equal(now, (long)payload["iat"]!);
        Assert.Equal(now, (long)payload["nbf"]!);
        Assert.Equal(now + 600, (long)payload["exp"]!);
        Assert.Equal(keyId, (string?)payload["azp"]);
        Assert.Equal("proj-a", (string?)payload["project"]);
        Assert.Equal("""["files:read"]""", payload["permissions"]!.ToJsonString());
        Assert.False(string.IsNullOrEmpty((string?)payload["jti"]));

        // The signing key is published (public part only).
        var jwks = await factory.CreateApiClient(apiKey: null).GetJsonAsync("/.well-known/jwks.json");
        var jwk = jwks["keys"]!.AsArray().Single()!.AsObject();
        Assert.Equal((string?)header["kid"], (string?)jwk["kid"]);
        Assert.Equal(["kty", "crv", "x", "y", "kid", "use", "alg"], jwk.Select(p => p.Key));
        Assert.Equal("EC", (string?)jwk["kty"]);
        Assert.Equal("P-256", (string?)jwk["crv"]);

        // Defaults: an hour, and all of the key's permissions.
        var defaults = Decode(await factory.ExchangeAsync(secret, "user_123")).Payload;
        Assert.Equal(now + 3600, (long)defaults["exp"]!);
        Assert.Equal("""["files:read","vector_stores:read"]""", defaults["permissions"]!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"externalUserId":"u"}""", "audience", "missing_required_parameter")]
    [InlineData("""{"audience":"not a uri","externalUserId":"u"}""", "audience", "invalid_value")]
    [InlineData("""{"audience":5,"externalUserId":"u"}""", "audience", "invalid_type")]
    [InlineData("""{"audience":"urn:quiver"}""", "externalUserId", "missing_required_parameter")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"*"}""", "externalUserId", "invalid_value")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":""}""", "externalUserId", "invalid_value")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"tab\there"}""", "externalUserId", "invalid_value")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"caf\u00e9"}""", "externalUserId", "invalid_value")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"LONG"}""", "externalUserId", "invalid_value")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":42}""", "externalUserId", "invalid_type")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"u","expiresIn":299}""", "expiresIn", "invalid_value")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"u","expiresIn":2592001}""", "expiresIn", "invalid_value")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"u","expiresIn":3600.5}""", "expiresIn", "invalid_value")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"u","expiresIn":"3600"}""", "expiresIn", "invalid_type")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"u","permissions":["agent:create"]}""", "permissions", "permission_not_held")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"u","permissions":"files:read"}""", "permissions", "invalid_type")]
    [InlineData("""{"audience":"urn:quiver","externalUserId":"u","permissions":["bad permission"]}""", "permissions", "invalid_value")]
    [InlineData("""[1]""", null, "invalid_json")]
    [InlineData("""{"audience":""", null, "invalid_json")]
    public async Task Invalid_exchange_bodies_are_400_naming_the_field(string body, string? param, string code)
    {
        await using var factory = new TFactory();
        var (_, secret) = await factory.CreateKeyAsync("""{"name":"svc","permissions":["files:read"]}""");
        using var response = await factory.Bearer(secret).PostAsync(ExchangePath, body.Replace("LONG", new string('x', 151), StringComparison.Ordinal));
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", param, code);
    }

    [Fact]
    public async Task Exchange_bounds_are_inclusive_and_need_an_api_key()
    {
        await using var factory = new TFactory();
        var (_, secret) = await factory.CreateKeyAsync("""{"name":"svc"}""");
        var shortest = Decode(await factory.ExchangeAsync(secret, new string('x', 150), expiresIn: 300)).Payload;
        Assert.Equal(300, (long)shortest["exp"]! - (long)shortest["iat"]!);
        var longest = Decode(await factory.ExchangeAsync(secret, " ~", "https://downstream.example.com/api", expiresIn: 2_592_000)).Payload;
        Assert.Equal(2_592_000, (long)longest["exp"]! - (long)longest["iat"]!);
        Assert.Equal("https://downstream.example.com/api", (string?)longest["aud"]);

        // No credential: 401. A token cannot be exchanged for another: 403.
        using (var anonymous = await factory.CreateApiClient(apiKey: null).PostAsync(ExchangePath, """{"audience":"urn:quiver","externalUserId":"u"}"""))
        {
            await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "authentication_error", null);
        }

        var token = await factory.ExchangeAsync(secret, "alice");
        using var again = await factory.Bearer(token).PostAsync(ExchangePath, """{"audience":"urn:quiver","externalUserId":"bob"}""");
        await again.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", null, "api_key_required");
    }

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task A_token_acts_as_its_end_user_on_every_route_group(string prefix)
    {
        await using var factory = new TFactory();
        var (_, secret) = await factory.CreateKeyAsync("""{"name":"svc","project":"tenant"}""");
        var alice = factory.Bearer(await factory.ExchangeAsync(secret, "alice"));
        var bob = factory.Bearer(await factory.ExchangeAsync(secret, "bob"));

        var fileId = (string)(await alice.UploadAsync(prefix, "a.txt", "Pelicans glide over the harbour at dawn."))["id"]!;
        var store = await alice.PostJsonAsync($"{prefix}/vector_stores", $$"""{"name":"alice's","file_ids":["{{fileId}}"]}""");
        var storeId = (string)store["id"]!;
        Assert.Equal("completed", (string?)(await alice.WaitForFileAsync(prefix, storeId, fileId))["status"]);
        Assert.Equal(fileId, (string?)(await alice.GetJsonAsync($"{prefix}/files/{fileId}"))["id"]);
        var hits = await alice.PostJsonAsync($"{prefix}/vector_stores/{storeId}/search", """{"query":"pelicans"}""");
        Assert.NotEmpty(hits["data"]!.AsArray());
        var embedding = await alice.PostJsonAsync($"{prefix}/embeddings", $$"""{"input":"hello","model":"{{TestEmbeddingGenerator.ModelId}}"}""");
        Assert.Equal("list", (string?)embedding["object"]);

        // The same principal through the key and X-On-Behalf-Of.
        var viaHeader = factory.Bearer(secret, onBehalfOf: "alice");
        Assert.Equal(storeId, (string?)(await viaHeader.GetJsonAsync($"{prefix}/vector_stores/{storeId}"))["id"]);
        // X-On-Behalf-Of may repeat the token's sub, never change it.
        Assert.Equal(storeId, (string?)(await factory.Bearer(await factory.ExchangeAsync(secret, "alice"), onBehalfOf: "alice")
            .GetJsonAsync($"{prefix}/vector_stores/{storeId}"))["id"]);
        using (var mismatch = await factory.Bearer(await factory.ExchangeAsync(secret, "alice"), onBehalfOf: "bob").GetAsync($"{prefix}/vector_stores", Ct))
        {
            await mismatch.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", "X-On-Behalf-Of", "on_behalf_of_mismatch");
        }

        // Another end user of the same key sees nothing of alice's.
        using (var hidden = await bob.GetAsync($"{prefix}/vector_stores/{storeId}", Ct))
        {
            await hidden.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
        }

        using (var hiddenFile = await bob.GetAsync($"{prefix}/files/{fileId}", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, hiddenFile.StatusCode);
        }

        Assert.Empty((await bob.GetJsonAsync($"{prefix}/vector_stores"))["data"]!.AsArray());
        Assert.Empty((await factory.Bearer(secret).GetJsonAsync($"{prefix}/vector_stores"))["data"]!.AsArray());
    }

    [Fact]
    public async Task Tampered_expired_foreign_and_malformed_tokens_are_401()
    {
        var clock = NewClock();
        await using var factory = WithClock<TFactory>(clock);
        var (_, secret) = await factory.CreateKeyAsync("""{"name":"svc"}""");
        var token = await factory.ExchangeAsync(secret, "alice", expiresIn: 300);
        Assert.Equal("list", (string?)(await factory.Bearer(token).GetJsonAsync("/v1/vector_stores"))["object"]);

        // Signature: one changed character; payload: another user with the old signature.
        var parts = token.Split('.');
        var flipped = parts[2][..^2] + (parts[2][^2] == 'A' ? 'B' : 'A') + parts[2][^1];
        await factory.Bearer($"{parts[0]}.{parts[1]}.{flipped}").AssertInvalidTokenAsync();
        var payload = Decode(token).Payload;
        payload["sub"] = "mallory";
        await factory.Bearer(WithPayload(token, payload)).AssertInvalidTokenAsync();

        // Another audience: meant for a downstream service, not for this server.
        await factory.Bearer(await factory.ExchangeAsync(secret, "alice", "https://downstream.example.com")).AssertInvalidTokenAsync();

        // Signed by this server's own key, but with another issuer, or without an expiry.
        var key = await factory.Services.GetRequiredService<SigningKeyRing>().GetSigningKeyAsync(Ct);
        var claims = Decode(token).Payload;
        await factory.Bearer(Sign(key, claims, issuer: "someone-else")).AssertInvalidTokenAsync();
        var noExpiry = Decode(token).Payload;
        noExpiry.Remove("exp");
        await factory.Bearer(Sign(key, noExpiry, issuer: null)).AssertInvalidTokenAsync();

        // A key this server never had.
        using (var foreign = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))
        {
            var kid = (string)Decode(token).Header["kid"]!;
            await factory.Bearer(Sign(new ECDsaSecurityKey(foreign) { KeyId = kid }, Decode(token).Payload, issuer: null)).AssertInvalidTokenAsync();
        }

        // alg none, and HS256 keyed with the public key (algorithm confusion).
        var none = $"{Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""")}.{parts[1]}.";
        await factory.Bearer(none).AssertInvalidTokenAsync();
        var hs = new JsonWebTokenHandler().CreateToken(parts[1].Length > 0 ? Decode(token).Payload.ToJsonString() : "{}",
            new SigningCredentials(new SymmetricSecurityKey(new byte[32]) { KeyId = (string)Decode(token).Header["kid"]! }, SecurityAlgorithms.HmacSha256));
        await factory.Bearer(hs).AssertInvalidTokenAsync();

        // Garbage in the shape of a token.
        await factory.Bearer("eyJub3QganNvbg.eyJ9.c2ln").AssertInvalidTokenAsync();
        await factory.Bearer("eyJ" + new string('a', 9000) + ".a.b").AssertInvalidTokenAsync();

        // Expiry follows the server's clock (30 s of allowed skew).
        clock.Advance(TimeSpan.FromSeconds(300 + 29));
        Assert.Equal("list", (string?)(await factory.Bearer(token).GetJsonAsync("/v1/vector_stores"))["object"]);
        clock.Advance(TimeSpan.FromSeconds(2));
        await factory.Bearer(token).AssertInvalidTokenAsync();
    }

    [Fact]
    public async Task Rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key()
    {
        await using var factory = new TFactory();
        var (_, secret) = await factory.CreateKeyAsync("""{"name":"svc"}""");
        var old = await factory.ExchangeAsync(secret, "alice");
        var oldKid = (string)Decode(old).Header["kid"]!;
        var admin = factory.CreateApiClient();

        var rotated = await admin.PostJsonAsync("/api/v1/admin/signing_keys/rotate", "{}");
        Assert.Equal("signing_key", (string?)rotated["object"]);
        Assert.Equal("active", (string?)rotated["status"]);
        var newKid = (string)rotated["id"]!;
        Assert.NotEqual(oldKid, newKid);

        var fresh = await factory.ExchangeAsync(secret, "alice");
        Assert.Equal(newKid, (string?)Decode(fresh).Header["kid"]);
        Assert.Equal("list", (string?)(await factory.Bearer(old).GetJsonAsync("/v1/vector_stores"))["object"]);
        Assert.Equal("list", (string?)(await factory.Bearer(fresh).GetJsonAsync("/v1/vector_stores"))["object"]);

        var ring = (await admin.GetJsonAsync("/api/v1/admin/signing_keys"))["data"]!.AsArray();
        Assert.Equal([newKid, oldKid], ring.Select(k => (string)k!["id"]!));
        Assert.Equal(["active", "retired"], ring.Select(k => (string)k!["status"]!));
        Assert.Equal((long)ring[1]!["retired_at"]! + SigningKeyRing.MaxTokenLifetimeSeconds + SigningKeyRing.VerificationGraceSeconds, (long)ring[1]!["verifies_until"]!);
        var published = (await factory.CreateApiClient(apiKey: null).GetJsonAsync("/.well-known/jwks.json"))["keys"]!.AsArray();
        Assert.Equal([newKid, oldKid], published.Select(k => (string)k!["kid"]!));
    }

    [Fact]
    public async Task Revoking_a_key_ends_its_tokens()
    {
        await using var factory = new TFactory();
        var (keyId, secret) = await factory.CreateKeyAsync("""{"name":"svc"}""");
        var token = await factory.ExchangeAsync(secret, "alice");
        Assert.Equal("list", (string?)(await factory.Bearer(token).GetJsonAsync("/v1/files"))["object"]);

        using (var revoked = await factory.CreateApiClient().DeleteAsync($"/api/v1/admin/keys/{keyId}", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }

        await factory.Bearer(token).AssertInvalidTokenAsync("/v1/files");
        using var response = await factory.Bearer(secret).GetAsync("/v1/files", Ct);
        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "authentication_error", null, "invalid_api_key");
    }

    private static string Sign(SecurityKey key, JsonObject claims, string? issuer)
    {
        if (issuer is not null)
        {
            claims["iss"] = issuer;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }
            .CreateToken(claims.ToJsonString(), new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256));
    }
}
