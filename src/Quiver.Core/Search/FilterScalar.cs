using System.Text.Json;

namespace Quiver.Core.Search;

/// <summary>
/// One scalar filter value, decoded once at parse time. Numbers compare as <see cref="double"/>,
/// strings ordinally (UTF-16 code units), booleans by equality only.
/// </summary>
internal readonly record struct FilterScalar(FilterValueKind Kind, string? Text, double Number, bool Boolean)
{
    public static FilterScalar FromString(string value) => new(FilterValueKind.String, value, 0, false);

    public static FilterScalar FromNumber(double value) => new(FilterValueKind.Number, null, value, false);

    public static FilterScalar FromBoolean(bool value) => new(FilterValueKind.Boolean, null, 0, value);

    /// <summary>The kind of an attribute value, or null for kinds that never match (null, object, array).</summary>
    public static FilterValueKind? KindOf(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => FilterValueKind.String,
        JsonValueKind.Number => FilterValueKind.Number,
        JsonValueKind.True or JsonValueKind.False => FilterValueKind.Boolean,
        _ => null,
    };

    /// <summary>Equality with an attribute already known to be of <see cref="Kind"/>.</summary>
    public bool EqualsAttribute(JsonElement attribute) => Kind switch
    {
        // ValueEquals compares the unescaped text without allocating a string.
        FilterValueKind.String => attribute.ValueEquals(Text),
        FilterValueKind.Number => attribute.TryGetDouble(out var n) && n == Number,
        _ => attribute.GetBoolean() == Boolean,
    };

    /// <summary>
    /// Sign of (attribute − this) for an attribute of the same kind: numbers numerically, strings ordinally.
    /// Not defined for booleans (the parser rejects ordering operators on them).
    /// </summary>
    public int CompareAttribute(JsonElement attribute) => Kind switch
    {
        FilterValueKind.String => Math.Sign(string.CompareOrdinal(attribute.GetString(), Text)),
        FilterValueKind.Number => attribute.TryGetDouble(out var n) ? n.CompareTo(Number) : 0,
        _ => throw new InvalidOperationException("Booleans have no order."),
    };
}
