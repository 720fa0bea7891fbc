using System.Security.Cryptography;
using System.Text;
using Quiver.Core.Ids;

namespace Quiver.Core.Keys;

/// <summary>
/// Key secrets and their hashes. Secrets carry 40 random base62 characters (≈238 bits), so a
/// plain SHA-256 is the right hash: there is nothing to brute-force that a slow KDF would protect.
/// </summary>
public static class ApiKeySecrets
{
    public const string Prefix = "qvr_";

    /// <summary>A new secret, shown to the operator once.</summary>
    public static string NewSecret() => Prefix + RandomIdGenerator.NewSecret(40);

    /// <summary>Lower-case hex SHA-256 of the secret's UTF-8 bytes.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
