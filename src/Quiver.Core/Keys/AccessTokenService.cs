using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quiver.Core.Errors;
using Quiver.Core.Tenancy;

namespace Quiver.Core.Keys;

/// <summary>Who a valid access token speaks for: the key that exchanged it, its project, the end user and the permissions handed on.</summary>
public sealed record TokenIdentity(string KeyId, string Project, string Subject, IReadOnlyList<string> Permissions, long ExpiresAt);

/// <summary>An exchange request (MKA1 §1.2), already read from the wire.</summary>
/// <param name="ExpiresIn">Lifetime in seconds; null for the default 3600.</param>
/// <param name="Permissions">Requested permissions; null for all of the key's.</param>
public sealed record TokenRequest(string Audience, string ExternalUserId, long? ExpiresIn, IReadOnlyList<string>? Permissions);

/// <summary>
/// Exchanges an API key for a short-lived ES256 JWT (MKA1 §1.2) and validates such tokens when they
/// come back as a Bearer. Claims: <c>iss</c>, <c>aud</c>, <c>sub</c> (the external user),
/// <c>iat</c>/<c>nbf</c>/<c>exp</c>, <c>jti</c>, <c>azp</c> (the API key id), <c>project</c> and
/// <c>permissions</c>. The header's <c>kid</c> names the ring key that signed it.
/// </summary>
public sealed class AccessTokenService(SigningKeyRing ring, IOptions<AuthOptions> options, TimeProvider time)
{
    public const long DefaultExpiresIn = 3600;
    public const long MinExpiresIn = 300;
    public const long MaxExpiresIn = SigningKeyRing.MaxTokenLifetimeSeconds;
    public const int MaxAudienceLength = 2048;

    /// <summary>Longest Bearer value tried as a token; longer ones are refused unread.</summary>
    public const int MaxTokenLength = 8192;

    /// <summary>The key id recorded in tokens exchanged with the operator's <c>QUIVER_API_KEY</c> (which has no stored record).</summary>
    public const string EnvironmentKeyId = "key_environment";

    private const string ProjectClaim = "project";
    private const string KeyClaim = "azp";
    private const string PermissionsClaim = "permissions";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false, MapInboundClaims = false };

    /// <summary>True when a Bearer value has the shape of a JWS (three base64url parts, a JSON header): it is then validated as a token, never looked up as a key.</summary>
    public static bool LooksLikeToken(string bearer) =>
        bearer.StartsWith("eyJ", StringComparison.Ordinal) && bearer.AsSpan().Count('.') == 2;

    /// <summary>
    /// Validates <paramref name="request"/> against the key and issues the token.
    /// <paramref name="keyPermissions"/> are what the exchanging key holds.
    /// </summary>
    public async Task<string> ExchangeAsync(string keyId, string project, IReadOnlyList<string> keyPermissions, TokenRequest request, CancellationToken ct)
    {
        if (request.Audience.Length > MaxAudienceLength || !Uri.TryCreate(request.Audience, UriKind.Absolute, out _))
        {
            throw ApiErrors.BadRequest(
                $"Invalid 'audience': '{ApiErrors.Truncate(request.Audience)}' must be an absolute URI of at most {MaxAudienceLength} characters naming the service the token is for (e.g. 'https://api.example.com' or '{AuthOptions.DefaultAudience}').",
                "audience", "invalid_value");
        }

        if (!Principal.IsValidUser(request.ExternalUserId))
        {
            throw ApiErrors.BadRequest(
                "Invalid 'externalUserId': it must be 1 to 150 printable ASCII characters and must not be '*'.", "externalUserId", "invalid_value");
        }

        var expiresIn = request.ExpiresIn ?? DefaultExpiresIn;
        if (expiresIn is < MinExpiresIn or > MaxExpiresIn)
        {
            throw ApiErrors.BadRequest(
                $"Invalid 'expiresIn': {expiresIn} is outside {MinExpiresIn} to {MaxExpiresIn} seconds (5 minutes to 30 days).", "expiresIn", "invalid_value");
        }

        IReadOnlyList<string> permissions;
        if (request.Permissions is null)
        {
            permissions = keyPermissions;
        }
        else
        {
            permissions = KeyPermissions.Validate(request.Permissions);
            if (permissions.FirstOrDefault(p => !KeyPermissions.Holds(keyPermissions, p)) is { } missing)
            {
                throw ApiErrors.BadRequest(
                    $"Invalid 'permissions': this API key does not hold '{ApiErrors.Truncate(missing, 40)}'; a token can carry only a subset of its key's permissions ({(keyPermissions.Count == 0 ? "this key has none" : string.Join(", ", keyPermissions.Take(10)))}).",
                    "permissions", "permission_not_held");
            }
        }

        var key = await ring.GetSigningKeyAsync(ct);
        var now = time.GetUtcNow();
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()).UtcDateTime;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Sub] = request.ExternalUserId,
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            [KeyClaim] = keyId,
            [ProjectClaim] = project,
            [PermissionsClaim] = permissions.ToArray(),
        };
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = request.Audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt,
            Expires = issuedAt.AddSeconds(expiresIn),
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SigningKeyRing.Algorithm),
        });
    }

    /// <summary>Validates a Bearer token: shape, <c>alg</c>, signature by a ring key, <c>exp</c>, <c>nbf</c>, <c>iss</c>, <c>aud</c> and Quiver's claims.</summary>
    /// <exception cref="ApiException">Unauthenticated (<c>invalid_token</c>) saying what failed.</exception>
    public async Task<TokenIdentity> ValidateAsync(string token, CancellationToken ct)
    {
        if (token.Length > MaxTokenLength)
        {
            throw InvalidToken("it is longer than 8192 characters");
        }

        JsonWebToken jwt;
        try
        {
            jwt = Handler.ReadJsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException or FormatException)
        {
            throw InvalidToken("it is not a well-formed JWT");
        }

        if (jwt.Alg != SigningKeyRing.Algorithm)
        {
            throw InvalidToken($"its algorithm must be {SigningKeyRing.Algorithm}");
        }

        if (await ring.FindVerificationKeyAsync(jwt.Kid, ct) is not { } key)
        {
            throw InvalidToken("it was not signed by a current key of this server (unknown or expired 'kid')");
        }

        var settings = options.Value;
        var result = await Handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudiences = settings.EffectiveAudiences,
            IssuerSigningKey = key,
            ValidAlgorithms = [SigningKeyRing.Algorithm],
            RequireSignedTokens = true,
            // exp and nbf are checked below against the injected clock (this version's parameters take none).
            ValidateLifetime = false,
        });
        if (!result.IsValid)
        {
            throw InvalidToken(result.Exception switch
            {
                SecurityTokenInvalidAudienceException => $"its audience is not one this server accepts ({string.Join(", ", settings.EffectiveAudiences)})",
                SecurityTokenInvalidIssuerException => "its issuer is not this server",
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "its signature does not verify",
                _ => "it did not validate",
            });
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var skew = settings.ClockSkewSeconds;
        if (!jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out var expires))
        {
            throw InvalidToken("it has no 'exp' claim");
        }

        if (now >= expires + skew)
        {
            throw InvalidToken("it has expired; exchange the API key for a new one");
        }

        if (jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Nbf, out var notBefore) && now + skew < notBefore)
        {
            throw InvalidToken("it is not valid yet ('nbf' is in the future)");
        }

        var subject = jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Sub, out var sub) ? sub : null;
        var project = jwt.TryGetPayloadValue<string>(ProjectClaim, out var p) ? p : null;
        var keyId = jwt.TryGetPayloadValue<string>(KeyClaim, out var k) ? k : null;
        if (subject is null || !Principal.IsValidUser(subject) || string.IsNullOrEmpty(project) || string.IsNullOrEmpty(keyId))
        {
            throw InvalidToken("it lacks the 'sub', 'project' or 'azp' claim of a Quiver token");
        }

        var permissions = result.ClaimsIdentity.FindAll(PermissionsClaim).Select(c => c.Value).ToList();
        return new TokenIdentity(keyId, project, subject, permissions, expires);
    }

    /// <summary>An unauthenticated error for a token that failed validation, saying why.</summary>
    public static ApiException InvalidToken(string reason) => new(ErrorKind.Unauthenticated, "invalid_token", null,
        $"The access token is invalid: {reason}. Exchange an API key for a token at POST /api/v1/authentication/api-key/exchange-token, or send the API key itself.");
}
