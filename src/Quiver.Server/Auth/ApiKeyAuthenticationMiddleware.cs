using System.Security.Cryptography;
using System.Text;
using Quiver.Core.Errors;
using Quiver.Core.Keys;
using Quiver.Core.Tenancy;
using Quiver.Server.Errors;

namespace Quiver.Server.Auth;

/// <summary>
/// Authenticates API routes (<c>/v1/…</c>, <c>/api/v1/…</c>) with a Bearer credential and resolves
/// the principal (D4). The credential is an API key (principal: the key's project plus the validated
/// <c>X-On-Behalf-Of</c> user) or an access token exchanged from one (principal: the key's project
/// plus the token's <c>sub</c>). Then the key's rate limit is applied, before any other work.
/// Health and documentation routes pass through without a credential.
/// </summary>
internal sealed class ApiKeyAuthenticationMiddleware(
    RequestDelegate next, IApiKeyStore keys, AccessTokenService tokens, IRateLimiter limiter, IConfiguration configuration)
{
    /// <summary>Project of the key given by <c>QUIVER_API_KEY</c> and of the first-start admin key.</summary>
    public const string DefaultProject = "default";

    private readonly byte[]? _environmentKeyHash = configuration["QUIVER_API_KEY"] is { Length: > 0 } key
        ? SHA256.HashData(Encoding.UTF8.GetBytes(key))
        : null;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsApiPath(context.Request.Path))
        {
            await next(context);
            return;
        }

        var error = await AuthenticateAsync(context);
        if (error is not null)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        await next(context);
    }

    private async Task<ApiException?> AuthenticateAsync(HttpContext context)
    {
        string header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= "Bearer ".Length)
        {
            return HttpErrors.MissingApiKey();
        }

        var secret = header["Bearer ".Length..].Trim();
        AuthenticatedCaller caller;
        RateLimitPolicy limit;
        try
        {
            (caller, limit) = AccessTokenService.LooksLikeToken(secret)
                ? await FromTokenAsync(secret, context.RequestAborted)
                : await FromKeyAsync(secret, context.RequestAborted);
        }
        catch (ApiException e)
        {
            return e;
        }

        var decision = await limiter.TryAcquireAsync(caller.KeyId, limit, context.RequestAborted);
        if (!decision.Allowed)
        {
            return ApiErrors.RateLimited(
                $"Rate limit exceeded: this API key allows {decision.Exceeded?.Describe()}. Retry after {decision.RetryAfterSeconds} seconds.",
                decision.RetryAfterSeconds);
        }

        var user = caller.Token?.Subject ?? "";
        if (context.Request.Headers.TryGetValue("X-On-Behalf-Of", out var onBehalfOf))
        {
            if (onBehalfOf.Count != 1 || onBehalfOf[0] is not { } value || !Principal.IsValidUser(value))
            {
                return HttpErrors.InvalidOnBehalfOf();
            }

            if (caller.Token is not null && value != user)
            {
                return ApiErrors.PermissionDenied(
                    "An access token acts for its own 'sub'; X-On-Behalf-Of may only repeat it. Exchange a token for the other user instead.",
                    "X-On-Behalf-Of", "on_behalf_of_mismatch");
            }

            user = value;
        }

        context.Items[AuthenticatedCaller.ItemKey] = caller;
        context.Items[RequestContext.PrincipalKey] = new Principal(caller.Project, user);
        return null;
    }

    private async Task<(AuthenticatedCaller Caller, RateLimitPolicy Limit)> FromKeyAsync(string secret, CancellationToken ct)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        if (_environmentKeyHash is not null && CryptographicOperations.FixedTimeEquals(hash, _environmentKeyHash))
        {
            return (EnvironmentCaller(null), RateLimitPolicy.None);
        }

        var key = await keys.FindActiveByHashAsync(Convert.ToHexStringLower(hash), ct) ?? throw ApiErrors.InvalidApiKey();
        return (new AuthenticatedCaller(key.Id, key.Project, key.IsAdmin, key.Grants, null), key.Limits);
    }

    private async Task<(AuthenticatedCaller Caller, RateLimitPolicy Limit)> FromTokenAsync(string token, CancellationToken ct)
    {
        var identity = await tokens.ValidateAsync(token, ct);
        if (identity.KeyId == AccessTokenService.EnvironmentKeyId)
        {
            return _environmentKeyHash is not null && identity.Project == DefaultProject
                ? (EnvironmentCaller(identity), RateLimitPolicy.None)
                : throw AccessTokenService.InvalidToken("the key that exchanged it is no longer configured");
        }

        // The exchanging key must still be active: revoking a key ends its tokens too.
        if (await keys.FindByIdAsync(identity.KeyId, ct) is not { RevokedAt: null } key || key.Project != identity.Project)
        {
            throw AccessTokenService.InvalidToken("the API key that exchanged it has been revoked");
        }

        return (new AuthenticatedCaller(key.Id, key.Project, key.IsAdmin, identity.Permissions, identity), key.Limits);
    }

    private static AuthenticatedCaller EnvironmentCaller(TokenIdentity? token) =>
        new(AccessTokenService.EnvironmentKeyId, DefaultProject, IsAdmin: true, token?.Permissions ?? [KeyPermissions.Any], token);

    private static bool IsApiPath(PathString path) =>
        path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/api/v1", StringComparison.OrdinalIgnoreCase);
}
