using System.Text.Json;
using Quiver.Core.Errors;
using Quiver.Core.VectorStores;

namespace Quiver.Server.Contracts;

/// <summary>
/// Validates a request's <c>metadata</c>/<c>attributes</c> map (D12) into Core's <see cref="AttributeMap"/>: at most
/// <see cref="AttributeMap.MaxKeys"/> keys of 1–<see cref="AttributeMap.MaxKeyLength"/> characters; values are strings of
/// at most <see cref="AttributeMap.MaxStringValueLength"/> characters, numbers or booleans.
/// </summary>
internal static class AttributesParser
{
    /// <summary>Null or JSON null means empty. Errors are invalid requests on <paramref name="param"/>.</summary>
    public static AttributeMap Parse(JsonElement? element, string param)
    {
        if (element is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return AttributeMap.Empty;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw ApiErrors.BadRequest($"Invalid type for '{param}': expected an object of up to {AttributeMap.MaxKeys} key-value pairs.", param, "invalid_type");
        }

        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            if (result.Count == AttributeMap.MaxKeys)
            {
                throw ApiErrors.BadRequest($"Invalid '{param}': at most {AttributeMap.MaxKeys} keys are allowed.", param, "invalid_value");
            }

            var key = property.Name;
            if (key.Length is 0 or > AttributeMap.MaxKeyLength)
            {
                throw ApiErrors.BadRequest($"Invalid '{param}': keys must be 1 to {AttributeMap.MaxKeyLength} characters; '{ApiErrors.Truncate(key)}' is {key.Length}.", param, "invalid_value");
            }

            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String when property.Value.GetString()!.Length > AttributeMap.MaxStringValueLength:
                    throw ApiErrors.BadRequest($"Invalid '{param}.{ApiErrors.Truncate(key)}': string values are limited to {AttributeMap.MaxStringValueLength} characters.", param, "invalid_value");
                case JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    result[key] = property.Value.Clone();
                    break;
                default:
                    throw ApiErrors.BadRequest($"Invalid '{param}.{ApiErrors.Truncate(key)}': values must be strings, numbers or booleans.", param, "invalid_type");
            }
        }

        return AttributeMap.FromValidated(result);
    }
}
