namespace Quiver.Core.Access;

/// <summary>
/// What the store knows about one resource for one caller: the user who created it (its owner,
/// within the resource's project) and the best role granted to the caller directly or publicly.
/// </summary>
/// <param name="OwnerUser">The creating principal's user (the empty string for a key acting for itself).</param>
/// <param name="GrantedRole">The highest role granted to the caller's user or to <c>*</c>, or null.</param>
public sealed record ResourceAccess(string OwnerUser, ResourceRole? GrantedRole)
{
    /// <summary>The caller's effective role: owner when they created it, else the best grant, else none (invisible).</summary>
    public ResourceRole? RoleOf(string user) => user == OwnerUser ? ResourceRole.Owner : GrantedRole;
}
