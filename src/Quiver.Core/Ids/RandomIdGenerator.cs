using System.Security.Cryptography;

namespace Quiver.Core.Ids;

/// <summary>Ids from the operating system's cryptographic RNG, so they cannot be guessed (D2).</summary>
internal sealed class RandomIdGenerator : IIdGenerator
{
    internal const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <inheritdoc/>
    public string NewId(string prefix) => prefix + RandomNumberGenerator.GetString(Base62, IdPrefixes.RandomLength);

    /// <summary>A random secret of <paramref name="length"/> base62 characters (≈5.95 bits each).</summary>
    public static string NewSecret(int length) => RandomNumberGenerator.GetString(Base62, length);
}
