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
        app.MapPost(ExchangePath, ExchangeTokenAsync).WithName("exchangeToken").WithTags("Authentication")
            .DocumentsJsonBody<ExchangeTokenRequest>();
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

        var request = ExchangeTokenRequest.Parse(await JsonBody.ReadObjectAsync(context.Request, allowEmpty: false, ct));
        var token = await tokens.ExchangeAsync(caller.KeyId, caller.Project, caller.Permissions, request, ct);
        return TypedResults.Ok(new ExchangeTokenResponse(token));
    }

    private static async Task<Ok<JwksDocument>> JwksAsync(SigningKeyRing ring, HttpContext context, CancellationToken ct)
    {
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Ok(new JwksDocument(await ring.GetPublicKeysAsync(ct)));
    }
}
