namespace Quiver.Core.Keys;

/// <summary>A stored API key. The secret itself is never stored, only its SHA-256.</summary>
/// <param name="RateLimit">The key's rate limit (<see cref="RateLimitPolicy.None"/> when unlimited).</param>
/// <param name="Permissions">Permissions the key may hand on in exchanged tokens (<c>*</c> = any); empty when none.</param>
public sealed record ApiKeyRecord(
    string Id, string Name, string Project, bool IsAdmin, long CreatedAt, long? RevokedAt,
    RateLimitPolicy? RateLimit = null, IReadOnlyList<string>? Permissions = null)
{
    /// <summary>The rate limit, never null.</summary>
    public RateLimitPolicy Limits => RateLimit ?? RateLimitPolicy.None;

    /// <summary>The permissions, never null.</summary>
    public IReadOnlyList<string> Grants => Permissions ?? [];
}

/// <summary>What a new key is created with.</summary>
/// <param name="Name">A label for operators (1–100 characters).</param>
/// <param name="Project">The project whose objects the key sees.</param>
/// <param name="IsAdmin">Whether the key may administer keys and the signing key ring over HTTP.</param>
/// <param name="RateLimit">The key's rate limit; null or <see cref="RateLimitPolicy.None"/> for none.</param>
/// <param name="Permissions">Permissions the key may put into exchanged tokens (see <see cref="KeyPermissions"/>).</param>
public sealed record NewApiKey(string Name, string Project, bool IsAdmin = false, RateLimitPolicy? RateLimit = null, IReadOnlyList<string>? Permissions = null);
