namespace Quiver.Core.Storage;

/// <summary>Storage's part of readiness: reachable and at the schema version this build expects.</summary>
public interface IStorageHealth
{
    /// <summary>Null when healthy, else a short reason (no paths, no internals).</summary>
    Task<string?> CheckAsync(CancellationToken ct);
}
