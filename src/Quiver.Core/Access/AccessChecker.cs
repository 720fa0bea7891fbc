using Quiver.Core.Errors;
using Quiver.Core.Tenancy;

namespace Quiver.Core.Access;

/// <summary>
/// The one place a route's role requirement is decided. A caller with no role at all on a
/// resource cannot tell it from a missing one (404); a caller who can see it but lacks the role
/// gets 403. Reads the grants per call, so a revoke holds on the next request everywhere.
/// </summary>
internal sealed class AccessChecker(IGrantStore grants)
{
    /// <summary>
    /// Throws unless <paramref name="caller"/> holds at least <paramref name="needed"/>; returns the
    /// resource's owning principal, by which the repositories (scoped by principal) reach it.
    /// </summary>
    /// <param name="notFound">The resource route's own not-found error, so messages stay as they were.</param>
    public async Task<Principal> RequireAsync(
        Principal caller, string resourceType, string resourceId, ResourceRole needed, Func<ApiException> notFound, CancellationToken ct)
    {
        var access = await grants.FindAsync(caller.Project, resourceType, resourceId, caller.User, ct);
        if (access?.RoleOf(caller.User) is not { } role)
        {
            throw notFound();
        }

        if (role < needed)
        {
            throw Denied(resourceType, resourceId, role, needed);
        }

        return caller with { User = access.OwnerUser };
    }

    /// <summary>The caller's effective role, or null when they cannot see the resource (or it does not exist).</summary>
    public async Task<ResourceRole?> RoleAsync(Principal caller, string resourceType, string resourceId, CancellationToken ct) =>
        (await grants.FindAsync(caller.Project, resourceType, resourceId, caller.User, ct))?.RoleOf(caller.User);

    public static ApiException Denied(string resourceType, string resourceId, ResourceRole held, ResourceRole needed) =>
        ApiErrors.PermissionDenied(
            $"You hold the '{held.Name()}' role on {resourceType} '{resourceId}', but this operation needs '{needed.Name()}'. Ask an owner of the resource to grant it.",
            code: "insufficient_role");
}
