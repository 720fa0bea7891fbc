using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using Quiver.Core.Ids;

namespace Quiver.Core.Keys;

/// <summary>A signing key as shown to operators (never its private part).</summary>
/// <param name="RetiredAt">When a rotation replaced it; null for the active key.</param>
/// <param name="VerifiesUntil">Until when tokens it signed are still accepted; null for the active key.</param>
public sealed record SigningKeyInfo(string Kid, string Algorithm, long CreatedAt, long? RetiredAt, long? VerifiesUntil)
{
    public bool Active => RetiredAt is null;
}

/// <summary>The public half of a signing key as a JSON Web Key (RFC 7517, EC P-256).</summary>
public sealed record PublicJwk(string Kty, string Crv, string X, string Y, string Kid, string Use, string Alg);

/// <summary>
/// The key ring that signs exchanged access tokens, kept in the database so every process signs
/// and verifies with the same keys. One key is active (it signs); a rotation
/// (<see cref="RotateAsync"/>, the operator's verb) makes a new key active and retires the old one,
/// which keeps verifying until every token it could have signed has expired: the longest token
/// lifetime (30 days) plus <see cref="VerificationGraceSeconds"/> after its retirement. Then it is
/// pruned. The ring is created on first use (a race between processes leaves one active key).
/// Each process caches the ring for <see cref="RefreshInterval"/> and reloads at once when it
/// meets an unknown <c>kid</c>, so a rotation in one process is honoured by the others.
/// </summary>
public sealed partial class SigningKeyRing(ISigningKeyStore store, TimeProvider time, ILogger<SigningKeyRing> logger)
{
    /// <summary>The JWS algorithm of every key: ECDSA P-256 with SHA-256.</summary>
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;

    /// <summary>The longest lifetime of an exchanged token (MKA1 §1.2: 30 days).</summary>
    public const long MaxTokenLifetimeSeconds = 2_592_000;

    /// <summary>Extra verification time after a retired key's last possible token (covers the cache refresh and clock skew).</summary>
    public const long VerificationGraceSeconds = 600;

    /// <summary>How long a process trusts its cached copy of the ring.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _reload = new(1, 1);
    private readonly Dictionary<string, ECDsaSecurityKey> _materialised = new(StringComparer.Ordinal);
    private volatile Snapshot? _snapshot;
    private long _version;

    private sealed record Entry(SigningKeyRecord Record, ECDsaSecurityKey Key);

    private sealed record Snapshot(IReadOnlyList<Entry> Keys, Entry Active, long LoadedAt);

    /// <summary>The active key and its <c>kid</c>, for signing.</summary>
    public async ValueTask<ECDsaSecurityKey> GetSigningKeyAsync(CancellationToken ct) => (await CurrentAsync(ct)).Active.Key;

    /// <summary>The key that verifies tokens with this <c>kid</c>, or null when it is unknown or no longer verifies.</summary>
    public async ValueTask<ECDsaSecurityKey?> FindVerificationKeyAsync(string? kid, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(kid) || kid.Length > 100)
        {
            return null;
        }

        var snapshot = await CurrentAsync(ct);
        if (Find(snapshot, kid) is not { } entry)
        {
            var seen = Interlocked.Read(ref _version);
            snapshot = await ReloadAsync(seen, ct);
            entry = Find(snapshot, kid);
        }

        return entry is not null && Verifies(entry.Record, time.GetUtcNow().ToUnixTimeSeconds()) ? entry.Key : null;
    }

    /// <summary>
    /// Rotates the ring: a new key becomes active and signs from now on, the old one keeps verifying
    /// the tokens it signed until they expire. Keys past that are pruned. Returns the new key.
    /// </summary>
    public async Task<SigningKeyInfo> RotateAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var record = NewKey(now);
        await store.RotateAsync(record, now, ct);
        var pruned = await store.PruneAsync(now - MaxTokenLifetimeSeconds - VerificationGraceSeconds, ct);
        await ReloadAsync(Interlocked.Read(ref _version), ct);
        LogRotated(logger, record.Kid, pruned);
        return Describe(record);
    }

    /// <summary>Every key that still verifies, the active one first (read fresh from the database).</summary>
    public async Task<IReadOnlyList<SigningKeyInfo>> ListAsync(CancellationToken ct)
    {
        var snapshot = await ReloadAsync(Interlocked.Read(ref _version), ct);
        return [.. snapshot.Keys.Select(e => Describe(e.Record))];
    }

    /// <summary>The public keys that verify tokens (for <c>/.well-known/jwks.json</c>).</summary>
    public async Task<IReadOnlyList<PublicJwk>> GetPublicKeysAsync(CancellationToken ct)
    {
        var snapshot = await CurrentAsync(ct);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return [.. snapshot.Keys.Where(e => Verifies(e.Record, now)).Select(e => ToJwk(e))];
    }

    private static Entry? Find(Snapshot snapshot, string kid)
    {
        foreach (var entry in snapshot.Keys)
        {
            if (entry.Record.Kid == kid)
            {
                return entry;
            }
        }

        return null;
    }

    private static bool Verifies(SigningKeyRecord key, long now) =>
        key.RetiredAt is not { } retired || now < retired + MaxTokenLifetimeSeconds + VerificationGraceSeconds;

    private static SigningKeyInfo Describe(SigningKeyRecord key) => new(
        key.Kid, key.Algorithm, key.CreatedAt, key.RetiredAt,
        key.RetiredAt is { } retired ? retired + MaxTokenLifetimeSeconds + VerificationGraceSeconds : null);

    private async ValueTask<Snapshot> CurrentAsync(CancellationToken ct)
    {
        var snapshot = _snapshot;
        if (snapshot is not null && time.GetUtcNow().ToUnixTimeMilliseconds() - snapshot.LoadedAt < RefreshInterval.TotalMilliseconds)
        {
            return snapshot;
        }

        return await ReloadAsync(Interlocked.Read(ref _version), ct);
    }

    /// <summary>Reads the ring from the database, unless another caller already did since <paramref name="seenVersion"/>.</summary>
    private async Task<Snapshot> ReloadAsync(long seenVersion, CancellationToken ct)
    {
        await _reload.WaitAsync(ct);
        try
        {
            if (_snapshot is { } fresh && Interlocked.Read(ref _version) != seenVersion)
            {
                return fresh;
            }

            var records = await store.ListAsync(ct);
            if (!records.Any(r => r.RetiredAt is null))
            {
                var first = NewKey(time.GetUtcNow().ToUnixTimeSeconds());
                if (await store.TryAddFirstAsync(first, ct))
                {
                    LogCreated(logger, first.Kid);
                }

                records = await store.ListAsync(ct);
            }

            var now = time.GetUtcNow().ToUnixTimeSeconds();
            var entries = records
                .Where(r => Verifies(r, now) && r.Algorithm == Algorithm)
                .OrderBy(r => r.RetiredAt is null ? 0 : 1).ThenByDescending(r => r.CreatedAt)
                .Select(r => new Entry(r, Materialise(r)))
                .ToList();
            var active = entries.FirstOrDefault(e => e.Record.RetiredAt is null)
                ?? throw new InvalidOperationException("The signing key ring has no active key after creating one.");
            var snapshot = new Snapshot(entries, active, time.GetUtcNow().ToUnixTimeMilliseconds());
            _snapshot = snapshot;
            Interlocked.Increment(ref _version);
            return snapshot;
        }
        finally
        {
            _reload.Release();
        }
    }

    /// <summary>One <see cref="ECDsaSecurityKey"/> per kid for the life of the process (callers may still hold old snapshots).</summary>
    private ECDsaSecurityKey Materialise(SigningKeyRecord record)
    {
        if (_materialised.TryGetValue(record.Kid, out var key))
        {
            return key;
        }

        var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(record.PrivateKey, out _);
        key = new ECDsaSecurityKey(ecdsa) { KeyId = record.Kid };
        _materialised[record.Kid] = key;
        return key;
    }

    private static SigningKeyRecord NewKey(long now)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new SigningKeyRecord("jwk_" + RandomIdGenerator.NewSecret(IdPrefixes.RandomLength), Algorithm, ecdsa.ExportPkcs8PrivateKey(), now, null);
    }

    private static PublicJwk ToJwk(Entry entry)
    {
        var parameters = entry.Key.ECDsa.ExportParameters(includePrivateParameters: false);
        return new PublicJwk("EC", "P-256", Base64UrlEncoder.Encode(parameters.Q.X), Base64UrlEncoder.Encode(parameters.Q.Y),
            entry.Record.Kid, "sig", Algorithm);
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Created the first token signing key {Kid}")]
    private static partial void LogCreated(ILogger logger, string kid);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Rotated the token signing key ring: {Kid} is active; pruned {Pruned} expired keys")]
    private static partial void LogRotated(ILogger logger, string kid, int pruned);
}
