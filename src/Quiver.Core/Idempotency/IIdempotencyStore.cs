using Quiver.Core.Tenancy;

namespace Quiver.Core.Idempotency;

/// <summary>
/// Remembers which object a create answered for an <c>Idempotency-Key</c>, per principal and scope
/// (the kind of create and, for attaches, the store), with a hash of the request that made it.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>The recorded create for this key, or null.</summary>
    Task<IdempotencyRecord?> FindAsync(Principal principal, string scope, string key, CancellationToken ct);

    /// <summary>Records a create; when the key is already recorded (a concurrent retry won) the first record stays.</summary>
    Task RecordAsync(Principal principal, string scope, string key, IdempotencyRecord record, long now, CancellationToken ct);
}

/// <summary>What a key answered: the request's hash and the id of the object it created.</summary>
public sealed record IdempotencyRecord(string RequestHash, string ObjectId);
