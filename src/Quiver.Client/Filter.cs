using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quiver.Client;

/// <summary>
/// An attribute filter for search: comparisons (<c>eq ne gt gte lt lte in nin</c>) and compounds
/// (<c>and</c>/<c>or</c>), or raw JSON through <see cref="FromJson"/>.
/// </summary>
/// <example><code>Filter.And(Filter.Eq("category", "manual"), Filter.Gte("version", 2))</code></example>
[JsonConverter(typeof(FilterConverter))]
public sealed class Filter
{
    private readonly string? _type;
    private readonly string? _key;
    private readonly AttributeValue? _value;
    private readonly IReadOnlyList<AttributeValue>? _values;
    private readonly IReadOnlyList<Filter>? _children;
    private readonly JsonElement? _raw;

    private Filter(string? type, string? key, AttributeValue? value, IReadOnlyList<AttributeValue>? values, IReadOnlyList<Filter>? children, JsonElement? raw)
    {
        _type = type;
        _key = key;
        _value = value;
        _values = values;
        _children = children;
        _raw = raw;
    }

    /// <summary><paramref name="key"/> equals <paramref name="value"/> (typed: a string never equals a number).</summary>
    public static Filter Eq(string key, AttributeValue value) => Compare("eq", key, value);

    /// <summary><paramref name="key"/> differs from <paramref name="value"/>.</summary>
    public static Filter Ne(string key, AttributeValue value) => Compare("ne", key, value);

    /// <summary><paramref name="key"/> is greater than <paramref name="value"/>.</summary>
    public static Filter Gt(string key, AttributeValue value) => Compare("gt", key, value);

    /// <summary><paramref name="key"/> is greater than or equal to <paramref name="value"/>.</summary>
    public static Filter Gte(string key, AttributeValue value) => Compare("gte", key, value);

    /// <summary><paramref name="key"/> is less than <paramref name="value"/>.</summary>
    public static Filter Lt(string key, AttributeValue value) => Compare("lt", key, value);

    /// <summary><paramref name="key"/> is less than or equal to <paramref name="value"/>.</summary>
    public static Filter Lte(string key, AttributeValue value) => Compare("lte", key, value);

    /// <summary><paramref name="key"/> is one of <paramref name="values"/>.</summary>
    public static Filter In(string key, params IEnumerable<AttributeValue> values) => new("in", Key(key), null, [.. values], null, null);

    /// <summary><paramref name="key"/> is none of <paramref name="values"/>.</summary>
    public static Filter Nin(string key, params IEnumerable<AttributeValue> values) => new("nin", Key(key), null, [.. values], null, null);

    /// <summary>All of <paramref name="filters"/> match.</summary>
    public static Filter And(params IEnumerable<Filter> filters) => new("and", null, null, null, [.. filters], null);

    /// <summary>Any of <paramref name="filters"/> matches.</summary>
    public static Filter Or(params IEnumerable<Filter> filters) => new("or", null, null, null, [.. filters], null);

    /// <summary>A filter given as raw JSON (sent as is).</summary>
    public static Filter FromJson(JsonElement json) => new(null, null, null, null, null, json.Clone());

    /// <summary>Implicit raw JSON filter.</summary>
    public static implicit operator Filter(JsonElement json) => FromJson(json);

    /// <summary>The filter as JSON.</summary>
    public JsonElement ToJsonElement()
    {
        if (_raw is { } raw)
        {
            return raw;
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(writer);
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    /// <summary>The filter as JSON text.</summary>
    public override string ToString() => ToJsonElement().GetRawText();

    internal void WriteTo(Utf8JsonWriter writer)
    {
        if (_raw is { } raw)
        {
            raw.WriteTo(writer);
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("type", _type);
        if (_children is { } children)
        {
            writer.WritePropertyName("filters");
            writer.WriteStartArray();
            foreach (var child in children)
            {
                child.WriteTo(writer);
            }

            writer.WriteEndArray();
        }
        else
        {
            writer.WriteString("key", _key);
            writer.WritePropertyName("value");
            if (_values is { } values)
            {
                writer.WriteStartArray();
                foreach (var v in values)
                {
                    v.WriteTo(writer);
                }

                writer.WriteEndArray();
            }
            else
            {
                _value!.Value.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
    }

    private static Filter Compare(string type, string key, AttributeValue value) => new(type, Key(key), value, null, null, null);

    private static string Key(string key) => string.IsNullOrEmpty(key) ? throw new ArgumentException("A filter key is required.", nameof(key)) : key;
}

/// <summary>JSON converter of <see cref="Filter"/>.</summary>
public sealed class FilterConverter : JsonConverter<Filter>
{
    /// <inheritdoc />
    public override Filter Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        return Filter.FromJson(doc.RootElement);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, Filter value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        value.WriteTo(writer);
    }
}

/// <summary>A search query: one string or several (each searched and the results fused).</summary>
[JsonConverter(typeof(SearchQueryConverter))]
public sealed class SearchQuery
{
    /// <summary>A single query.</summary>
    public SearchQuery(string query)
    {
        ArgumentException.ThrowIfNullOrEmpty(query);
        Queries = [query];
        IsSingle = true;
    }

    /// <summary>Several queries (1..16).</summary>
    public SearchQuery(IEnumerable<string> queries)
    {
        ArgumentNullException.ThrowIfNull(queries);
        Queries = [.. queries];
        IsSingle = false;
    }

    /// <summary>The query strings.</summary>
    public IReadOnlyList<string> Queries { get; }

    /// <summary>True when sent as a JSON string rather than an array.</summary>
    public bool IsSingle { get; }

    /// <summary>Implicit single query.</summary>
    public static implicit operator SearchQuery(string query) => new(query);

    /// <summary>Implicit multiple queries.</summary>
    public static implicit operator SearchQuery(string[] queries) => new(queries);

    /// <summary>The queries joined with a space.</summary>
    public override string ToString() => string.Join(' ', Queries);
}

/// <summary>JSON converter of <see cref="SearchQuery"/>.</summary>
public sealed class SearchQueryConverter : JsonConverter<SearchQuery>
{
    /// <inheritdoc />
    public override SearchQuery Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new SearchQuery(reader.GetString()!);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("A query must be a string or an array of strings.");
        }

        var list = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            list.Add(reader.GetString() ?? "");
        }

        return new SearchQuery(list);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, SearchQuery value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.IsSingle)
        {
            writer.WriteStringValue(value.Queries[0]);
            return;
        }

        writer.WriteStartArray();
        foreach (var q in value.Queries)
        {
            writer.WriteStringValue(q);
        }

        writer.WriteEndArray();
    }
}
