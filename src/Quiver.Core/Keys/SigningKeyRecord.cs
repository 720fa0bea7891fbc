namespace Quiver.Core.Keys;

/// <summary>One key of the token-signing key ring, as stored: its id (<c>kid</c>), algorithm and PKCS#8 private key.</summary>
/// <param name="RetiredAt">When a rotation replaced it (Unix seconds); null for the active key.</param>
public sealed record SigningKeyRecord(string Kid, string Algorithm, byte[] PrivateKey, long CreatedAt, long? RetiredAt);

/// <summary>Storage of the signing key ring. Exactly one key is active (not retired) once the ring exists.</summary>
public interface ISigningKeyStore
{
    /// <summary>Every stored key, newest first.</summary>
    Task<IReadOnlyList<SigningKeyRecord>> ListAsync(CancellationToken ct);

    /// <summary>Stores <paramref name="key"/> as the active key unless one already exists (another process won the race); true when stored.</summary>
    Task<bool> TryAddFirstAsync(SigningKeyRecord key, CancellationToken ct);

    /// <summary>Retires the active key at <paramref name="now"/> and stores <paramref name="key"/> as the new active one, in one transaction.</summary>
    Task RotateAsync(SigningKeyRecord key, long now, CancellationToken ct);

    /// <summary>Deletes keys retired before <paramref name="retiredBefore"/> (no token they signed can still be valid); returns how many.</summary>
    Task<int> PruneAsync(long retiredBefore, CancellationToken ct);
}
