using Quiver.Core.Errors;
using Quiver.Core.Keys;
using Quiver.Server.Errors;

namespace Quiver.Server.Auth;

/// <summary>
/// How the request authenticated: the API key behind it (directly, or as the key that exchanged
/// the access token), whether that key is an admin key, and the token's identity when a token was
/// used. The <see cref="Core.Tenancy.Principal"/> the handlers scope by is kept beside it.
/// </summary>
/// <param name="KeyId">The key's id; <see cref="AccessTokenService.EnvironmentKeyId"/> for <c>QUIVER_API_KEY</c>.</param>
/// <param name="Permissions">What the key (or the token) holds.</param>
/// <param name="Token">The validated token, or null when the API key itself was sent.</param>
internal sealed record AuthenticatedCaller(string KeyId, string Project, bool IsAdmin, IReadOnlyList<string> Permissions, TokenIdentity? Token)
{
    internal static readonly object ItemKey = new();

    /// <summary>The caller of this request (set by the authentication middleware on every API route).</summary>
    public static AuthenticatedCaller Of(HttpContext context) =>
        context.Items[ItemKey] as AuthenticatedCaller ?? throw HttpErrors.MissingApiKey();

    /// <summary>Throws 403 unless an admin API key (not a token) made the request.</summary>
    public void RequireAdmin()
    {
        if (Token is not null || !IsAdmin)
        {
            throw ApiErrors.PermissionDenied(
                "This route needs an admin API key. Create one with `keys create --admin` or use the admin key printed at first start.",
                code: "admin_key_required");
        }
    }
}
