using Quiver.Core.Errors;

namespace Quiver.Core.Ids;

/// <summary>
/// Checks the shape of ids that arrive in paths and bodies. A malformed id is an invalid request naming the
/// parameter; a well-formed id that does not exist (or is not the caller's) is not found later.
/// </summary>
public static class IdValidator
{
    /// <summary>Longest random part accepted; ours are 24, other implementations' ids may be longer.</summary>
    private const int MaxRandomLength = 64;

    /// <summary>True when <paramref name="value"/> is <paramref name="prefix"/> + 1..64 base62 characters.</summary>
    public static bool IsWellFormed(string? value, string prefix)
    {
        if (value is null || !value.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = value.AsSpan(prefix.Length);
        if (rest.Length is 0 or > MaxRandomLength)
        {
            return false;
        }

        foreach (var c in rest)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Returns <paramref name="value"/> or throws an invalid-request error naming <paramref name="param"/>.</summary>
    public static string Require(string? value, string prefix, string param) =>
        IsWellFormed(value, prefix) ? value! : throw ApiErrors.InvalidId(param, prefix, value ?? "");
}
