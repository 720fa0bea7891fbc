using System.Text.Json;
using Quiver.Core.Errors;

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

    /// <summary>Validates a request value; null or JSON null means empty. Errors are 400s on <paramref name="param"/>.</summary>
    public static AttributeMap Parse(JsonElement? element, string param)
    {
        if (element is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return Empty;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw ApiErrors.BadRequest($"Invalid type for '{param}': expected an object of up to {MaxKeys} key-value pairs.", param, "invalid_type");
        }

        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            if (result.Count == MaxKeys)
            {
                throw ApiErrors.BadRequest($"Invalid '{param}': at most {MaxKeys} keys are allowed.", param, "invalid_value");
            }

            var key = property.Name;
            if (key.Length is 0 or > MaxKeyLength)
            {
                throw ApiErrors.BadRequest($"Invalid '{param}': keys must be 1 to {MaxKeyLength} characters; '{ApiErrors.Truncate(key)}' is {key.Length}.", param, "invalid_value");
            }

            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String when property.Value.GetString()!.Length > MaxStringValueLength:
                    throw ApiErrors.BadRequest($"Invalid '{param}.{ApiErrors.Truncate(key)}': string values are limited to {MaxStringValueLength} characters.", param, "invalid_value");
                case JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    result[key] = property.Value.Clone();
                    break;
                default:
                    throw ApiErrors.BadRequest($"Invalid '{param}.{ApiErrors.Truncate(key)}': values must be strings, numbers or booleans.", param, "invalid_type");
            }
        }

        return new AttributeMap(result);
    }
}
