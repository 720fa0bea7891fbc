using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Quiver.Core.Search;
using Quiver.Server.Contracts;

namespace Quiver.Tests.Search;

/// <summary>
/// Property test: for random attribute sets and random filter trees, the production filter (parsed, then
/// <see cref="AttributeFilter.Matches"/>) agrees with a small reference evaluator written from the documented
/// semantics (docs/search.md, "Filters") straight over the JSON, sharing no code with it.
/// </summary>
public sealed class FilterPropertyTests
{
    private static readonly string[] Keys = ["s", "n", "b", "absent"];
    private static readonly string[] Operators = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"];

    /// <summary>0: string, 1: number, 2: boolean.</summary>
    private static Gen<JsonNode> Scalar(int kind) => kind switch
    {
        0 => Gen.OneOf("a", "ab", "b", "B", "é", "", "10", "\U0001F600", "\uFFFD").Select(s => (JsonNode)JsonValue.Create(s)),
        1 => Gen.OneOf(
            Gen.Int[-3, 3].Select(i => (JsonNode)JsonValue.Create(i)),
            Gen.Int[-6, 6].Select(i => (JsonNode)JsonValue.Create(i / 2.0))),
        _ => Gen.Bool.Select(b => (JsonNode)JsonValue.Create(b)),
    };

    private static readonly Gen<JsonNode> AnyScalar = Gen.Int[0, 2].SelectMany(Scalar);

    private static readonly Gen<JsonObject> Attributes =
        Gen.Select(AnyScalar, AnyScalar, AnyScalar, Gen.Int[0, 7]).Select((s, n, b, missing) =>
        {
            var attributes = new JsonObject();
            if ((missing & 1) == 0) attributes["s"] = s;
            if ((missing & 2) == 0) attributes["n"] = n;
            if ((missing & 4) == 0) attributes["b"] = b;
            return attributes;
        });

    private static readonly Gen<JsonObject> Leaf =
        Gen.Select(Gen.Int[0, 2], Gen.OneOf(Keys), Gen.Int[0, Operators.Length - 1]).SelectMany((kind, key, op) =>
        {
            // Booleans have no order: the parser refuses gt/gte/lt/lte on them (tested elsewhere).
            var name = kind == 2 && op is >= 2 and <= 5 ? "eq" : Operators[op];
            var value = name is "in" or "nin"
                ? Scalar(kind).Array[1, 4].Select(values => (JsonNode)new JsonArray([.. values]))
                : Scalar(kind);
            return value.Select(v => new JsonObject { ["type"] = name, ["key"] = key, ["value"] = v });
        });

    private static Gen<JsonObject> Filter(int depth) => depth >= 4
        ? Leaf
        : Gen.Frequency(
            (3, Leaf),
            (1, Gen.Select(Gen.Bool, Gen.Int[1, 3]).SelectMany((isAnd, count) =>
                Filter(depth + 1).Array[count].Select(children =>
                    new JsonObject { ["type"] = isAnd ? "and" : "or", ["filters"] = new JsonArray([.. children]) }))));

    [Fact]
    public void Parsed_filters_agree_with_the_reference_evaluator()
    {
        Gen.Select(Attributes, Filter(1)).Sample((attributes, filter) =>
        {
            var json = filter.ToJsonString();
            var parsed = FilterParser.Parse(JsonDocument.Parse(json).RootElement);
            var values = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(attributes.ToJsonString())!;
            // Re-read as JSON text so numbers are JSON numbers, not the CLR values they were built from.
            return parsed.Matches(values) == Reference(JsonNode.Parse(json)!.AsObject(), JsonNode.Parse(attributes.ToJsonString())!.AsObject());
        }, iter: 20_000, seed: "0N0XIzNsQ0O2");
    }

    /// <summary>The documented semantics, evaluated directly on the JSON.</summary>
    private static bool Reference(JsonObject filter, JsonObject attributes)
    {
        var type = (string)filter["type"]!;
        if (type is "and" or "or")
        {
            var results = filter["filters"]!.AsArray().Select(f => Reference(f!.AsObject(), attributes));
            return type == "and" ? results.All(r => r) : results.Any(r => r);
        }

        // A missing key, or an attribute of another kind, fails every operator (ne and nin too).
        if (attributes[(string)filter["key"]!] is not JsonValue attribute)
        {
            return false;
        }

        var candidates = filter["value"] is JsonArray list ? [.. list.Select(v => v!.AsValue())] : new[] { filter["value"]!.AsValue() };
        if (candidates[0].GetValueKind() is var kind && Kind(kind) != Kind(attribute.GetValueKind()))
        {
            return false;
        }

        int Compare(JsonValue value) => Kind(value.GetValueKind()) switch
        {
            "number" => attribute.GetValue<double>().CompareTo(value.GetValue<double>()),
            "string" => Math.Sign(string.CompareOrdinal(attribute.GetValue<string>(), value.GetValue<string>())),
            _ => attribute.GetValue<bool>() == value.GetValue<bool>() ? 0 : 1,
        };

        return type switch
        {
            "eq" => Compare(candidates[0]) == 0,
            "ne" => Compare(candidates[0]) != 0,
            "gt" => Compare(candidates[0]) > 0,
            "gte" => Compare(candidates[0]) >= 0,
            "lt" => Compare(candidates[0]) < 0,
            "lte" => Compare(candidates[0]) <= 0,
            "in" => candidates.Any(c => Compare(c) == 0),
            "nin" => !candidates.Any(c => Compare(c) == 0),
            _ => throw new InvalidOperationException(type),
        };
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "other",
    };
}
