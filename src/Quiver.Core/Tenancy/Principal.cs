namespace Quiver.Core.Tenancy;

/// <summary>
/// Who a request acts for (D4): the API key's project plus the optional <c>X-On-Behalf-Of</c>
/// user. Every stored object carries both columns and every query filters on both, so another
/// principal's objects are invisible (not found, absent from lists).
/// </summary>
/// <param name="Project">The API key's project.</param>
/// <param name="User">The on-behalf-of user, or the empty string when the key acts for itself.</param>
public readonly record struct Principal(string Project, string User)
{
    /// <summary>Longest accepted <c>X-On-Behalf-Of</c> value.</summary>
    public const int MaxUserLength = 150;

    /// <summary>True when <paramref name="value"/> is a valid <c>X-On-Behalf-Of</c>: 1–150 printable ASCII, not <c>*</c>.</summary>
    public static bool IsValidUser(string value)
    {
        if (value.Length is 0 or > MaxUserLength || value == "*")
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < '\x20' or > '\x7E')
            {
                return false;
            }
        }

        return true;
    }
}
