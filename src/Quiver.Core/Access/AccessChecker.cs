using System.Collections.Concurrent;
using Quiver.Core.Errors;
using Quiver.Core.Tenancy;

namespace Quiver.Core.Access;

/// <summary>
/// The one place a route's role requirement is decided. A caller with no role at all on a
/// resource cannot tell it from a missing one (not found); a caller who can see it but lacks the role
/// is refused (permission denied). Grants are read per call, so a revoke holds on the next request everywhere; only who
/// created a resource — which never changes — is remembered (<see cref="RequireBeforeLoadAsync"/>).
/// </summary>
internal sealed class AccessChecker(IGrantStore grants)
{
    /// <summary>Past this many remembered creators the memory starts over (a bound, not a tuning knob: ~100 bytes an entry).</summary>
    private const int MaxRememberedCreators = 100_000;

    /// <summary>Per resource, the user who created it, as the checks have seen it. Creators are immutable, so entries never go stale.</summary>
    private readonly ConcurrentDictionary<(string Project, string Type, string Id), string> _creators = new();

    /// <summary>
    /// Throws unless <paramref name="caller"/> holds at least <paramref name="needed"/>; returns the
    /// resource's owning principal, by which the repositories (scoped by principal) reach it.
    /// </summary>
    /// <param name="notFound">The resource route's own not-found error, so messages stay as they were.</param>
    public async Task<Principal> RequireAsync(
        Principal caller, string resourceType, string resourceId, ResourceRole needed, Func<ApiException> notFound, CancellationToken ct)
    {
        var access = await grants.FindAsync(caller.Project, resourceType, resourceId, caller.User, ct);
        if (access is null)
        {
            throw notFound();
        }

        Remember(caller.Project, resourceType, resourceId, access.OwnerUser);
        if (access.RoleOf(caller.User) is not { } role)
        {
            throw notFound();
        }

        if (role < needed)
        {
            throw Denied(resourceType, resourceId, role, needed);
        }

        return caller with { User = access.OwnerUser };
    }

    /// <summary>
    /// <see cref="RequireAsync"/> for routes that load the resource through the returned principal right after and answer
    /// <paramref name="notFound"/> when it is gone. Its creator holds every role, so once a check has seen who created
    /// the resource, that user's checks need no query: a resource deleted meanwhile is not found by the load, as it would
    /// have been by the check. Anyone else's role is read per call (grants change).
    /// </summary>
    public Task<Principal> RequireBeforeLoadAsync(
        Principal caller, string resourceType, string resourceId, ResourceRole needed, Func<ApiException> notFound, CancellationToken ct) =>
        _creators.TryGetValue((caller.Project, resourceType, resourceId), out var creator) && creator == caller.User
            ? Task.FromResult(caller)
            : RequireAsync(caller, resourceType, resourceId, needed, notFound, ct);

    /// <summary>The caller's effective role, or null when they cannot see the resource (or it does not exist).</summary>
    public async Task<ResourceRole?> RoleAsync(Principal caller, string resourceType, string resourceId, CancellationToken ct) =>
        (await grants.FindAsync(caller.Project, resourceType, resourceId, caller.User, ct))?.RoleOf(caller.User);

    public static ApiException Denied(string resourceType, string resourceId, ResourceRole held, ResourceRole needed) =>
        ApiErrors.PermissionDenied(
            $"You hold the '{held.Name()}' role on {resourceType} '{resourceId}', but this operation needs '{needed.Name()}'. Ask an owner of the resource to grant it.",
            code: "insufficient_role");

    private void Remember(string project, string resourceType, string resourceId, string creator)
    {
        if (_creators.Count >= MaxRememberedCreators)
        {
            _creators.Clear();
        }

        _creators[(project, resourceType, resourceId)] = creator;
    }
}
