using System.Text.Json;
using System.Text.Json.Serialization;
using Quiver.Core.Errors;
using Quiver.Core.Keys;
using Quiver.Server.Endpoints;

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

// Request bodies, in the style of VectorStoreRequests.cs: each record documents what is accepted (the OpenAPI
// document) and owns its one parser, which returns the validated form the handler passes on.

/// <summary>Body of <c>POST /api/v1/authentication/api-key/exchange-token</c> (MKA1 §1.2, camelCase).</summary>
/// <param name="Audience">Absolute URI of the service the token is for.</param>
/// <param name="ExternalUserId">The end user the token acts for: 1 to 150 printable ASCII characters, not <c>*</c>.</param>
/// <param name="ExpiresIn">Lifetime in whole seconds (<c>3600</c> and <c>3600.0</c> both are), 5 minutes to 30 days (default 3600).</param>
/// <param name="Permissions">Permissions to hand on, each held by the key (default: all the key holds).</param>
public sealed record ExchangeTokenRequest(
    [property: JsonPropertyName("audience")] string Audience,
    [property: JsonPropertyName("externalUserId")] string ExternalUserId,
    [property: JsonPropertyName("expiresIn")] long? ExpiresIn,
    [property: JsonPropertyName("permissions")] IReadOnlyList<string>? Permissions)
{
    /// <summary>The shapes; <see cref="AccessTokenService"/> checks the values against the key.</summary>
    internal static TokenRequest Parse(JsonElement body)
    {
        var audience = body.RequiredString("audience", AccessTokenService.MaxAudienceLength + 1);
        // The pattern is checked by the service; 151 lets it say "too long" in its own words.
        var user = body.Get("externalUserId") is { ValueKind: JsonValueKind.String } raw
            ? raw.GetString()!
            : body.RequiredString("externalUserId", 151);
        var expiresIn = OptionalWholeNumber(body, "expiresIn");
        var permissions = body.OptionalStringArray("permissions");
        return new TokenRequest(audience, user, expiresIn, permissions);
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

/// <summary>Body of <c>POST /api/v1/admin/keys</c>.</summary>
/// <param name="Name">1 to 100 printable ASCII characters.</param>
/// <param name="Project">The key's project, 1 to 100 printable ASCII characters (default: the name).</param>
/// <param name="Admin">Whether the key may use the admin API (default false).</param>
/// <param name="RateLimit">Comma-separated <c>COUNT/UNIT</c> windows such as <c>10/s,5000/h</c>; null, empty or <c>none</c> is no limit.</param>
/// <param name="Permissions">At most 64 permission strings the key may hand on to tokens (<c>*</c>: any).</param>
public sealed record CreateApiKeyRequest(string Name, string? Project, bool? Admin, string? RateLimit, IReadOnlyList<string>? Permissions)
{
    internal static NewApiKey Parse(JsonElement body)
    {
        var name = body.RequiredString("name", AdminEndpoints.MaxNameLength);
        var project = body.OptionalString("project", AdminEndpoints.MaxNameLength) ?? name;
        if (!AdminEndpoints.IsPrintable(name))
        {
            throw ApiErrors.BadRequest("Invalid 'name': use printable ASCII characters only.", "name", "invalid_value");
        }

        if (project.Length == 0 || !AdminEndpoints.IsPrintable(project))
        {
            throw ApiErrors.BadRequest($"Invalid 'project': 1 to {AdminEndpoints.MaxNameLength} printable ASCII characters.", "project", "invalid_value");
        }

        var isAdmin = body.OptionalBool("admin") ?? false;
        var limit = RateLimitPolicy.Parse(body.OptionalString("rate_limit", RateLimitPolicy.MaxSpecLength + 1));
        var permissions = KeyPermissions.Validate(body.OptionalStringArray("permissions"));
        return new NewApiKey(name, project, isAdmin, limit, permissions);
    }
}

/// <summary>
/// Body of <c>POST /api/v1/admin/keys/{key_id}</c>: only these two fields, and absent ones stay as they are;
/// <c>rate_limit: null</c> or <c>""</c> removes the limit. Any other field is refused (create a new key instead).
/// </summary>
public sealed record UpdateApiKeyRequest(string? RateLimit, IReadOnlyList<string>? Permissions)
{
    /// <summary>The validated change; a null field is left as it is.</summary>
    internal sealed record Parsed(RateLimitPolicy? RateLimit, IReadOnlyList<string>? Permissions);

    internal static Parsed Parse(JsonElement body)
    {
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name is not ("rate_limit" or "permissions"))
            {
                throw ApiErrors.BadRequest(
                    $"Unknown parameter '{ApiErrors.Truncate(property.Name, 40)}': a key's rate_limit and permissions can be changed; create a new key to change anything else.",
                    property.Name, "unknown_parameter");
            }
        }

        var limit = body.Get("rate_limit") is null ? null : RateLimitPolicy.Parse(body.OptionalString("rate_limit", RateLimitPolicy.MaxSpecLength + 1));
        var permissions = body.Get("permissions") is null ? null : KeyPermissions.Validate(body.OptionalStringArray("permissions") ?? []);
        return new Parsed(limit, permissions);
    }
}
