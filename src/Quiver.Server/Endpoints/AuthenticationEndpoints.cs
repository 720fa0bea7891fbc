using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiver.Core.Errors;
using Quiver.Core.Keys;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;

namespace Quiver.Server.Endpoints;

/// <summary>
/// API key → access token exchange (MKA1 §1.2, camelCase body) and the public key set that
/// verifies the tokens (<c>/.well-known/jwks.json</c>, no credential needed).
/// </summary>
internal static class AuthenticationEndpoints
{
    public const string ExchangePath = "/api/v1/authentication/api-key/exchange-token";

    public static IEndpointRouteBuilder MapAuthentication(this IEndpointRouteBuilder app)
    {
        app.MapPost(ExchangePath, ExchangeTokenAsync).WithName("exchangeToken").WithTags("Authentication");
        app.MapGet("/.well-known/jwks.json", JwksAsync).WithName("jwks").WithTags("Authentication");
        return app;
    }

    private static async Task<Ok<ExchangeTokenResponse>> ExchangeTokenAsync(
        HttpContext context, AccessTokenService tokens, CancellationToken ct)
    {
        var caller = AuthenticatedCaller.Of(context);
        if (caller.Token is not null)
        {
            throw ApiErrors.PermissionDenied(
                "Exchanging needs an API key: an access token cannot be exchanged for another one.", code: "api_key_required");
        }

        var body = await JsonBody.ReadObjectAsync(context.Request, allowEmpty: false, ct);
        var audience = body.RequiredString("audience", AccessTokenService.MaxAudienceLength + 1);
        // The pattern is checked by the service; 151 lets it say "too long" in its own words.
        var user = body.Get("externalUserId") is { ValueKind: JsonValueKind.String } raw
            ? raw.GetString()!
            : body.RequiredString("externalUserId", 151);
        var expiresIn = OptionalWholeNumber(body, "expiresIn");
        var permissions = body.OptionalStringArray("permissions");
        var token = await tokens.ExchangeAsync(caller.KeyId, caller.Project, caller.Permissions,
            new TokenRequest(audience, user, expiresIn, permissions), ct);
        return TypedResults.Ok(new ExchangeTokenResponse(token));
    }

    private static async Task<Ok<JwksDocument>> JwksAsync(SigningKeyRing ring, HttpContext context, CancellationToken ct)
    {
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Ok(new JwksDocument(await ring.GetPublicKeysAsync(ct)));
    }

    /// <summary>An optional whole number (3600 and 3600.0 both are; 3600.5 is not).</summary>
    private static long? OptionalWholeNumber(JsonElement body, string name)
    {
        if (body.Get(name) is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw JsonBody.InvalidType(name, "a number", value);
        }

        if (value.TryGetInt64(out var whole))
        {
            return whole;
        }

        var number = value.GetDouble();
        return number == Math.Floor(number) && Math.Abs(number) < 1e15
            ? (long)number
            : throw ApiErrors.BadRequest($"Invalid '{name}': expected a whole number of seconds, got {value.GetRawText()}.", name, "invalid_value");
    }
}
