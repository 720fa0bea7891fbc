using System.Text.Json;

namespace Quiver.Core.VectorStores;

/// <summary>
/// A validated <c>metadata</c>/<c>attributes</c> map (D12): at most 16 keys of 1–64 characters;
/// values are strings of at most 512 characters, numbers or booleans. Stored as JSON text.
/// </summary>
public sealed class AttributeMap
{
    public const int MaxKeys = 16;
    public const int MaxKeyLength = 64;
    public const int MaxStringValueLength = 512;

    public static readonly AttributeMap Empty = new(new Dictionary<string, JsonElement>(StringComparer.Ordinal));

    private AttributeMap(IReadOnlyDictionary<string, JsonElement> values)
    {
        Values = values;
    }

    /// <summary>The values, each a JSON string, number or boolean.</summary>
    public IReadOnlyDictionary<string, JsonElement> Values { get; }

    /// <summary>Canonical JSON text for storage.</summary>
    public string ToJson() => JsonSerializer.Serialize(Values, AttributeJsonContext.Default.IReadOnlyDictionaryStringJsonElement);

    /// <summary>Reads stored JSON text (already validated when written).</summary>
    public static AttributeMap FromJson(string json) =>
        json is "{}" or "" ? Empty : new(JsonSerializer.Deserialize(json, AttributeJsonContext.Default.DictionaryStringJsonElement)!);

    /// <summary>Wraps values the server has already validated against the limits above (keys, kinds, lengths).</summary>
    internal static AttributeMap FromValidated(IReadOnlyDictionary<string, JsonElement> values) =>
        values.Count == 0 ? Empty : new(values);
}
