using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Auth;

/// <summary>Helpers for the authentication tests: keys over the admin API, token exchange, JWT inspection.</summary>
internal static class AuthTestKit
{
    public const string ExchangePath = "/api/v1/authentication/api-key/exchange-token";
    public const string Audience = "urn:quiver";

    /// <summary>A clock half a second into a minute, so second and minute windows end at known distances.</summary>
    public static FakeTimeProvider NewClock() => new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, 500, TimeSpan.Zero));

    /// <summary>A factory whose every service reads <paramref name="clock"/>.</summary>
    public static TFactory WithClock<TFactory>(FakeTimeProvider clock)
        where TFactory : QuiverFactory, new() =>
        new() { ConfigureTestServices = services => services.AddSingleton<TimeProvider>(clock) };

    public static HttpClient Bearer(this QuiverFactory factory, string credential, string? onBehalfOf = null) =>
        factory.CreateApiClient(credential, onBehalfOf);

    /// <summary>Creates a key through the admin API; returns its id and secret.</summary>
    public static async Task<(string Id, string Secret)> CreateKeyAsync(this QuiverFactory factory, string json)
    {
        var key = await factory.CreateApiClient().PostJsonAsync("/api/v1/admin/keys", json);
        return ((string)key["id"]!, (string)key["secret"]!);
    }

    public static async Task<HttpResponseMessage> PostAsync(this HttpClient client, string url, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        return await client.PostAsync(url, content, Ct);
    }

    /// <summary>Exchanges <paramref name="apiKey"/> for a token for <paramref name="user"/>.</summary>
    public static async Task<string> ExchangeAsync(this QuiverFactory factory, string apiKey, string user, string audience = Audience, int? expiresIn = null)
    {
        var body = new JsonObject { ["audience"] = audience, ["externalUserId"] = user };
        if (expiresIn is { } seconds)
        {
            body["expiresIn"] = seconds;
        }

        var answer = await factory.Bearer(apiKey).PostJsonAsync(ExchangePath, body.ToJsonString());
        Assert.Equal(["token"], answer.Select(p => p.Key));
        return (string)answer["token"]!;
    }

    /// <summary>The decoded header and payload of a JWT.</summary>
    public static (JsonObject Header, JsonObject Payload) Decode(string token)
    {
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        return (JsonNode.Parse(Base64UrlEncoder.Decode(parts[0]))!.AsObject(), JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject());
    }

    /// <summary>The token with its payload replaced (the signature no longer matches).</summary>
    public static string WithPayload(string token, JsonObject payload)
    {
        var parts = token.Split('.');
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{parts[2]}";
    }

    public static async Task AssertInvalidTokenAsync(this HttpClient client, string url = "/v1/vector_stores")
    {
        using var response = await client.GetAsync(url, Ct);
        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "authentication_error", null, "invalid_token");
    }

    public static AuthenticationHeaderValue BearerHeader(string credential) => new("Bearer", credential);
}
