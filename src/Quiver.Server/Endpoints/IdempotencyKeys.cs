using System.Security.Cryptography;
using System.Text;
using Quiver.Core.Errors;
using Quiver.Core.Idempotency;
using Quiver.Core.Tenancy;

namespace Quiver.Server.Endpoints;

/// <summary>
/// The <c>Idempotency-Key</c> header on creates (store create, file upload, attach, batch create; docs/api-decisions.md):
/// a retry with the same key and the same request answers with the object the first one created and creates nothing;
/// the same key with a different request is a 409 <c>idempotency_key_reused</c>. Keys are per principal and scope.
/// </summary>
internal static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const int MaxLength = 255;

    /// <summary>The header value, or null when absent or empty.</summary>
    public static string? Read(HttpRequest request)
    {
        var key = request.Headers[Header].ToString() is { Length: > 0 } value ? value : null;
        return key?.Length > MaxLength
            ? throw ApiErrors.BadRequest($"The Idempotency-Key header is limited to {MaxLength} characters.", Header, "invalid_value")
            : key;
    }

    /// <summary>A stable hash of what identifies a request (its scope and body parts).</summary>
    public static string Hash(params ReadOnlySpan<string> parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in parts)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(part));
            hash.AppendData([0]);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The id of the object an earlier request with this key and <paramref name="requestHash"/> created, or null when
    /// there is no key or it is new. Throws a conflict when the key was used with a different request.
    /// </summary>
    public static async Task<string?> FindAsync(IIdempotencyStore store, Principal principal, string scope, string? key, string requestHash, CancellationToken ct)
    {
        if (key is null || await store.FindAsync(principal, scope, key, ct) is not { } record)
        {
            return null;
        }

        return record.RequestHash == requestHash
            ? record.ObjectId
            : throw ApiErrors.Conflict(
                $"The Idempotency-Key '{ApiErrors.Truncate(key)}' was already used with a different request. Repeat the original request to get its result, or send a new key.",
                Header, "idempotency_key_reused");
    }

    /// <summary>Remembers the object a keyed create made (no-op without a key).</summary>
    public static Task RecordAsync(IIdempotencyStore store, TimeProvider time, Principal principal, string scope, string? key, string requestHash, string objectId, CancellationToken ct) =>
        key is null
            ? Task.CompletedTask
            : store.RecordAsync(principal, scope, key, new IdempotencyRecord(requestHash, objectId), time.GetUtcNow().ToUnixTimeSeconds(), ct);
}
