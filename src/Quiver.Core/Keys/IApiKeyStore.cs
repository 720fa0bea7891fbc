namespace Quiver.Core.Keys;

/// <summary>API keys: created and revoked by the CLI, looked up by hash on every request.</summary>
public interface IApiKeyStore
{
    /// <summary>Creates a key and returns it with its secret (the only time the secret exists).</summary>
    Task<(ApiKeyRecord Key, string Secret)> CreateAsync(string name, string project, bool isAdmin, CancellationToken ct);

    /// <summary>All keys, newest first, including revoked ones.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken ct);

    /// <summary>Revokes a key; false when no such active key exists.</summary>
    Task<bool> RevokeAsync(string id, CancellationToken ct);

    /// <summary>The active key with this secret hash, or null.</summary>
    Task<ApiKeyRecord?> FindActiveByHashAsync(string hash, CancellationToken ct);

    /// <summary>Number of keys ever created (revoked included).</summary>
    Task<long> CountAsync(CancellationToken ct);
}
