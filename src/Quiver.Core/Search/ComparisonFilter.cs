using System.Text.Json;

namespace Quiver.Core.Search;

/// <summary>
/// A filter leaf <c>{"type": op, "key": k, "value": v}</c>. For <c>in</c>/<c>nin</c>, <see cref="Values"/>
/// holds the list (all of one kind); otherwise it holds exactly one value.
/// </summary>
/// <remarks>
/// Semantics, with a = attributes[key]: a missing key, or an attribute whose kind differs from the value's,
/// makes every operator false — including <c>ne</c> and <c>nin</c> — because values of different kinds
/// never compare. So <c>ne</c> means "present, same kind, and different".
/// </remarks>
internal sealed class ComparisonFilter(FilterOperator op, string key, FilterScalar[] values) : AttributeFilter
{
    public FilterOperator Operator { get; } = op;

    public string Key { get; } = key;

    public IReadOnlyList<FilterScalar> Values => values;

    public FilterValueKind Kind => values[0].Kind;

    /// <inheritdoc/>
    public override bool Matches(IReadOnlyDictionary<string, JsonElement> attributes)
    {
        if (!attributes.TryGetValue(Key, out var attribute) || FilterScalar.KindOf(attribute) != Kind)
        {
            return false;
        }

        var first = values[0];
        return Operator switch
        {
            FilterOperator.Eq => first.EqualsAttribute(attribute),
            FilterOperator.Ne => !first.EqualsAttribute(attribute),
            FilterOperator.Gt => first.CompareAttribute(attribute) > 0,
            FilterOperator.Gte => first.CompareAttribute(attribute) >= 0,
            FilterOperator.Lt => first.CompareAttribute(attribute) < 0,
            FilterOperator.Lte => first.CompareAttribute(attribute) <= 0,
            FilterOperator.In => AnyEqual(attribute),
            FilterOperator.Nin => !AnyEqual(attribute),
            _ => false,
        };
    }

    // At most 100 values (parser limit), so a linear scan beats building a set per filter.
    private bool AnyEqual(JsonElement attribute)
    {
        foreach (var value in values)
        {
            if (value.EqualsAttribute(attribute))
            {
                return true;
            }
        }

        return false;
    }
}
