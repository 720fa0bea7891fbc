namespace Quiver.Core.Access;

/// <summary>
/// A role on a file or vector store. The values are ordered (<c>owner &gt; writer &gt; reader</c>)
/// and stored as these integers, so "holds at least" is a numeric comparison in SQL too.
/// </summary>
public enum ResourceRole
{
    /// <summary>Read: retrieve, list, search, contents.</summary>
    Reader = 1,

    /// <summary>Read and modify: update, attach, detach, batches.</summary>
    Writer = 2,

    /// <summary>Everything: delete, grant, revoke.</summary>
    Owner = 3,
}

/// <summary>The wire names of <see cref="ResourceRole"/>.</summary>
public static class ResourceRoles
{
    /// <summary>The wire name (<c>owner</c>, <c>writer</c>, <c>reader</c>).</summary>
    public static string Name(this ResourceRole role) => role switch
    {
        ResourceRole.Owner => "owner",
        ResourceRole.Writer => "writer",
        _ => "reader",
    };

    /// <summary>Parses a wire name; false for anything else (case-sensitive, as the contract's enum).</summary>
    public static bool TryParse(string? value, out ResourceRole role)
    {
        (var ok, role) = value switch
        {
            "owner" => (true, ResourceRole.Owner),
            "writer" => (true, ResourceRole.Writer),
            "reader" => (true, ResourceRole.Reader),
            _ => (false, default),
        };
        return ok;
    }
}
