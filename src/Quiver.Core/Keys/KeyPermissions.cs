using System.Text.Json;
using Quiver.Core.Errors;

namespace Quiver.Core.Keys;

/// <summary>
/// Permission strings a key holds and hands on to exchanged tokens (MKA1 §1.2, e.g. <c>agent:read</c>).
/// Quiver carries them in the token's <c>permissions</c> claim for downstream services; <c>*</c> on a key
/// means it may hand on any permission.
/// </summary>
public static class KeyPermissions
{
    public const string Any = "*";
    public const int MaxCount = 64;
    public const int MaxLength = 100;

    /// <summary>Validates a permission list: at most 64 distinct entries of 1–100 characters from <c>A-Z a-z 0-9 _ . : * -</c>. Returns it de-duplicated, in order.</summary>
    public static IReadOnlyList<string> Validate(IReadOnlyList<string>? permissions, string param = "permissions")
    {
        if (permissions is null)
        {
            return [];
        }

        if (permissions.Count > MaxCount)
        {
            throw ApiErrors.BadRequest($"Invalid '{param}': at most {MaxCount} permissions, got {permissions.Count}.", param, "array_above_max_length");
        }

        foreach (var permission in permissions)
        {
            if (permission.Length is 0 or > MaxLength || !permission.All(IsAllowed))
            {
                throw ApiErrors.BadRequest(
                    $"Invalid '{param}': '{ApiErrors.Truncate(permission, 40)}' must be 1 to {MaxLength} characters of letters, digits and _ . : * - (e.g. 'vector_stores:read').",
                    param, "invalid_value");
            }
        }

        return [.. permissions.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>True when a key holding <paramref name="held"/> may hand on <paramref name="permission"/>.</summary>
    public static bool Holds(IReadOnlyList<string> held, string permission) =>
        held.Contains(Any, StringComparer.Ordinal) || held.Contains(permission, StringComparer.Ordinal);

    /// <summary>The stored form: a JSON array.</summary>
    public static string ToStored(IReadOnlyList<string> permissions) =>
        JsonSerializer.Serialize(permissions, KeysJsonContext.Default.IReadOnlyListString);

    /// <summary>Reads the stored form; malformed is no permission.</summary>
    public static IReadOnlyList<string> FromStored(string? stored)
    {
        if (string.IsNullOrEmpty(stored))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize(stored, KeysJsonContext.Default.IReadOnlyListString) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '*' or '-';
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class KeysJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
