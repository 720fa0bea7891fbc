using System.Text.Json;

namespace Quiver.Core.Search;

/// <summary>
/// <c>{"type": "and"|"or", "filters": [...]}</c>: <c>and</c> = all children match, <c>or</c> = any child
/// matches. Children are evaluated in order with short-circuit; the parser guarantees 1..32 children.
/// </summary>
internal sealed class CompoundFilter(bool isAnd, AttributeFilter[] filters) : AttributeFilter
{
    public bool IsAnd { get; } = isAnd;

    public IReadOnlyList<AttributeFilter> Filters => filters;

    /// <inheritdoc/>
    public override bool Matches(IReadOnlyDictionary<string, JsonElement> attributes)
    {
        foreach (var filter in filters)
        {
            if (filter.Matches(attributes) != IsAnd)
            {
                // and: one false decides; or: one true decides.
                return !IsAnd;
            }
        }

        return IsAnd;
    }
}
