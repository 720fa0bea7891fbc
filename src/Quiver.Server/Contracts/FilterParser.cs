using System.Text.Json;
using Quiver.Core.Errors;
using Quiver.Core.Search;

namespace Quiver.Server.Contracts;

/// <summary>
/// Parses and validates the <c>filters</c> field of <see cref="SearchRequestBody"/> (D11) into Core's <see cref="AttributeFilter"/>.
/// Every failure is an invalid request with <c>param: "filters"</c> and a message naming the JSON path of the problem
/// (for example <c>filters.filters[2].type</c>). Unknown extra properties are ignored, as OpenAI does.
/// </summary>
internal static class FilterParser
{
    /// <summary>Maximum nesting depth; the top-level filter object is depth 1.</summary>
    public const int MaxDepth = 8;

    /// <summary>Maximum children of one <c>and</c>/<c>or</c>.</summary>
    public const int MaxChildren = 32;

    /// <summary>Maximum attribute key length in UTF-16 chars (same as the attribute key limit, D12).</summary>
    public const int MaxKeyLength = 64;

    /// <summary>Maximum number of values in an <c>in</c>/<c>nin</c> list.</summary>
    public const int MaxListValues = 100;

    private const string Param = "filters";

    private const string KnownTypes = "eq, ne, gt, gte, lt, lte, in, nin, and, or";

    public static AttributeFilter Parse(JsonElement filter) => ParseNode(filter, Param, 1);

    private static AttributeFilter ParseNode(JsonElement element, string path, int depth)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path, $"expected a filter object but got {Describe(element.ValueKind)}.");
        }

        if (depth > MaxDepth)
        {
            throw Invalid(path, $"filters may be nested at most {MaxDepth} levels deep.");
        }

        if (!element.TryGetProperty("type", out var typeElement))
        {
            throw Invalid(path + ".type", $"the filter has no 'type'. Expected one of {KnownTypes}.");
        }

        if (typeElement.ValueKind != JsonValueKind.String)
        {
            throw Invalid(path + ".type", $"expected a string but got {Describe(typeElement.ValueKind)}.");
        }

        var type = typeElement.GetString()!;
        return type switch
        {
            "and" => ParseCompound(element, path, depth, isAnd: true),
            "or" => ParseCompound(element, path, depth, isAnd: false),
            "eq" => ParseComparison(element, path, FilterOperator.Eq),
            "ne" => ParseComparison(element, path, FilterOperator.Ne),
            "gt" => ParseComparison(element, path, FilterOperator.Gt),
            "gte" => ParseComparison(element, path, FilterOperator.Gte),
            "lt" => ParseComparison(element, path, FilterOperator.Lt),
            "lte" => ParseComparison(element, path, FilterOperator.Lte),
            "in" => ParseComparison(element, path, FilterOperator.In),
            "nin" => ParseComparison(element, path, FilterOperator.Nin),
            _ => throw Invalid(path + ".type", $"unknown filter type '{ApiErrors.Truncate(type, 32)}'. Expected one of {KnownTypes}."),
        };
    }

    private static CompoundFilter ParseCompound(JsonElement element, string path, int depth, bool isAnd)
    {
        var childrenPath = path + ".filters";
        if (!element.TryGetProperty("filters", out var children))
        {
            throw Invalid(childrenPath, "a compound filter needs a 'filters' array.");
        }

        if (children.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(childrenPath, $"expected an array but got {Describe(children.ValueKind)}.");
        }

        var count = children.GetArrayLength();
        if (count is 0 or > MaxChildren)
        {
            throw Invalid(childrenPath, $"a compound filter needs 1 to {MaxChildren} filters but got {count}.");
        }

        var parsed = new AttributeFilter[count];
        var i = 0;
        foreach (var child in children.EnumerateArray())
        {
            parsed[i] = ParseNode(child, $"{childrenPath}[{i}]", depth + 1);
            i++;
        }

        return new CompoundFilter(isAnd, parsed);
    }

    private static ComparisonFilter ParseComparison(JsonElement element, string path, FilterOperator op)
    {
        var key = ParseKey(element, path);
        var valuePath = path + ".value";
        if (!element.TryGetProperty("value", out var value))
        {
            throw Invalid(valuePath, "a comparison filter needs a 'value'.");
        }

        FilterScalar[] values;
        if (op is FilterOperator.In or FilterOperator.Nin)
        {
            values = ParseList(value, valuePath, op);
        }
        else
        {
            if (value.ValueKind == JsonValueKind.Array)
            {
                throw Invalid(valuePath, $"'{Name(op)}' takes a single string, number or boolean; use 'in' or 'nin' for a list.");
            }

            values = [ParseScalar(value, valuePath)];
            if (values[0].Kind == FilterValueKind.Boolean && op is not FilterOperator.Eq and not FilterOperator.Ne)
            {
                throw Invalid(valuePath, $"booleans can only be compared with eq, ne, in or nin, not '{Name(op)}'.");
            }
        }

        return new ComparisonFilter(op, key, values);
    }

    private static string ParseKey(JsonElement element, string path)
    {
        var keyPath = path + ".key";
        if (!element.TryGetProperty("key", out var keyElement))
        {
            throw Invalid(keyPath, "a comparison filter needs a 'key'.");
        }

        if (keyElement.ValueKind != JsonValueKind.String)
        {
            throw Invalid(keyPath, $"expected a string but got {Describe(keyElement.ValueKind)}.");
        }

        var key = keyElement.GetString()!;
        if (key.Length is 0 or > MaxKeyLength)
        {
            throw Invalid(keyPath, $"the key must be 1 to {MaxKeyLength} characters but has {key.Length}.");
        }

        return key;
    }

    private static FilterScalar[] ParseList(JsonElement value, string path, FilterOperator op)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path, $"'{Name(op)}' takes an array of 1 to {MaxListValues} strings, numbers or booleans but got {Describe(value.ValueKind)}.");
        }

        var count = value.GetArrayLength();
        if (count is 0 or > MaxListValues)
        {
            throw Invalid(path, $"'{Name(op)}' takes 1 to {MaxListValues} values but got {count}.");
        }

        var values = new FilterScalar[count];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var itemPath = $"{path}[{i}]";
            values[i] = ParseScalar(item, itemPath);
            if (values[i].Kind != values[0].Kind)
            {
                throw Invalid(itemPath, $"all values of '{Name(op)}' must be of one kind; the first is a {KindName(values[0].Kind)}, this one a {KindName(values[i].Kind)}.");
            }

            i++;
        }

        return values;
    }

    private static FilterScalar ParseScalar(JsonElement value, string path) => value.ValueKind switch
    {
        JsonValueKind.String => FilterScalar.FromString(value.GetString()!),
        JsonValueKind.Number when value.TryGetDouble(out var n) && double.IsFinite(n) => FilterScalar.FromNumber(n),
        JsonValueKind.Number => throw Invalid(path, "the number is out of range."),
        JsonValueKind.True => FilterScalar.FromBoolean(true),
        JsonValueKind.False => FilterScalar.FromBoolean(false),
        _ => throw Invalid(path, $"expected a string, number or boolean but got {Describe(value.ValueKind)}."),
    };

    private static ApiException Invalid(string path, string problem) =>
        ApiErrors.BadRequest($"Invalid '{path}': {problem}", Param);

    private static string Name(FilterOperator op) => op.ToString().ToLowerInvariant();

    private static string KindName(FilterValueKind kind) => kind.ToString().ToLowerInvariant();

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
