using System.Text.Json;

namespace Quiver.Core.Search;

/// <summary>
/// A parsed, validated attribute filter (D11). It is evaluated in memory over a store's files, never
/// translated to SQL, so keys and values are only ever data. The server builds one from the request (<c>Quiver.Server.Contracts.FilterParser</c>).
/// </summary>
internal abstract class AttributeFilter
{
    /// <summary>
    /// Whether a file with these attributes passes the filter. Typed: a value only compares with an
    /// attribute of the same JSON kind (string, number, boolean); a missing key never matches.
    /// </summary>
    public abstract bool Matches(IReadOnlyDictionary<string, JsonElement> attributes);
}
