namespace Quiver.Core.Keys;

/// <summary>API keys: created and revoked by the CLI or the admin API, looked up by hash on every request.</summary>
public interface IApiKeyStore
{
    /// <summary>Creates a key and returns it with its secret (the only time the secret exists).</summary>
    Task<(ApiKeyRecord Key, string Secret)> CreateAsync(NewApiKey key, CancellationToken ct);

    /// <summary>Creates a key without a rate limit or permissions (see <see cref="CreateAsync(NewApiKey, CancellationToken)"/>).</summary>
    Task<(ApiKeyRecord Key, string Secret)> CreateAsync(string name, string project, bool isAdmin, CancellationToken ct) =>
        CreateAsync(new NewApiKey(name, project, isAdmin), ct);

    /// <summary>All keys, newest first, including revoked ones.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken ct);

    /// <summary>Replaces an active key's rate limit and/or permissions (null leaves one as it is); the updated key, or null when no such active key exists.</summary>
    Task<ApiKeyRecord?> UpdateAsync(string id, RateLimitPolicy? rateLimit, IReadOnlyList<string>? permissions, CancellationToken ct);

    /// <summary>Revokes a key; false when no such active key exists.</summary>
    Task<bool> RevokeAsync(string id, CancellationToken ct);

    /// <summary>The active key with this secret hash, or null.</summary>
    Task<ApiKeyRecord?> FindActiveByHashAsync(string hash, CancellationToken ct);

    /// <summary>The key with this id, revoked or not, or null.</summary>
    Task<ApiKeyRecord?> FindByIdAsync(string id, CancellationToken ct);

    /// <summary>Number of keys ever created (revoked included).</summary>
    Task<long> CountAsync(CancellationToken ct);
}
