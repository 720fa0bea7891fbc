using System.Text.Json.Serialization;
using Quiver.Core.Keys;

namespace Quiver.Server.Contracts;

/// <summary>Answer of <c>POST /api/v1/authentication/api-key/exchange-token</c> (MKA1 §1.2).</summary>
public sealed record ExchangeTokenResponse(string Token);

/// <summary>The body of <c>/.well-known/jwks.json</c>: the public keys that verify access tokens.</summary>
public sealed record JwksDocument(IReadOnlyList<PublicJwk> Keys);

/// <summary>An API key as the admin API shows it; <c>secret</c> appears only in the answer to create.</summary>
public sealed record ApiKeyObject(
    string Id, string Object, string Name, string Project, bool Admin, string? RateLimit, IReadOnlyList<string> Permissions,
    long CreatedAt, long? RevokedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Secret = null)
{
    public static ApiKeyObject From(ApiKeyRecord key, string? secret = null) => new(
        key.Id, "api_key", key.Name, key.Project, key.IsAdmin, key.Limits.IsNone ? null : key.Limits.ToString(), key.Grants,
        key.CreatedAt, key.RevokedAt, secret);
}

/// <summary>Answer of <c>DELETE /api/v1/admin/keys/{key_id}</c>: the key is revoked.</summary>
public sealed record ApiKeyDeleted(string Id, string Object, bool Deleted);

/// <summary>A key of the token-signing key ring as the admin API shows it (no private part).</summary>
/// <param name="Status"><c>active</c> (signs new tokens) or <c>retired</c> (verifies tokens until <c>verifies_until</c>).</param>
public sealed record SigningKeyObject(string Id, string Object, string Algorithm, string Status, long CreatedAt, long? RetiredAt, long? VerifiesUntil)
{
    public static SigningKeyObject From(SigningKeyInfo key) => new(
        key.Kid, "signing_key", key.Algorithm, key.Active ? "active" : "retired", key.CreatedAt, key.RetiredAt, key.VerifiesUntil);
}
