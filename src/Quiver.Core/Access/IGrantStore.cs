namespace Quiver.Core.Access;

/// <summary>
/// Role grants on files and vector stores, scoped by project: a grant names a user of the
/// granting project (or <c>*</c>, every principal of the project). Grants are read from the
/// database on every check, so a revoke holds on the very next request in every process.
/// </summary>
public interface IGrantStore
{
    /// <summary>The resource's owner and the caller's best grant, or null when no such resource exists in <paramref name="project"/>.</summary>
    /// <param name="resourceType">A served type (<see cref="ResourceTypes"/>).</param>
    Task<ResourceAccess?> FindAsync(string project, string resourceType, string resourceId, string user, CancellationToken ct);

    /// <summary>Records the grant (idempotent: granting twice keeps one row).</summary>
    Task GrantAsync(string project, string resourceType, string resourceId, string user, ResourceRole role, long now, CancellationToken ct);

    /// <summary>Removes exactly that grant (user and role); nothing happens when it does not exist.</summary>
    Task RevokeAsync(string project, string resourceType, string resourceId, string user, ResourceRole role, CancellationToken ct);

    /// <summary>Removes every grant on the resource (its creator stays owner).</summary>
    Task DeleteAllAsync(string project, string resourceType, string resourceId, CancellationToken ct);

    /// <summary>
    /// Ids of resources of <paramref name="resourceType"/> that <paramref name="user"/> created or
    /// was granted at least <paramref name="minRole"/> directly (public grants excluded), ascending by
    /// id, strictly after <paramref name="after"/>, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<string>> ListDirectAsync(
        string project, string resourceType, string user, ResourceRole minRole, string? after, int limit, CancellationToken ct);
}
