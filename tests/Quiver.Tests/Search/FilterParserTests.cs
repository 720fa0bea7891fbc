using System.Text.Json;
using Quiver.Core.Errors;
using Quiver.Core.Search;
using Quiver.Server.Contracts;

namespace Quiver.Tests.Search;

public sealed class FilterParserTests
{
    // One file's attributes used by the operator table below.
    private static readonly IReadOnlyDictionary<string, JsonElement> Attributes = Attrs("""
        {"author": "bob", "year": 2020, "draft": false, "rating": 4.5, "tag": "10"}
        """);

    [Theory]
    // strings: equality and ordinal ordering
    [InlineData("""{"type":"eq","key":"author","value":"bob"}""", true)]
    [InlineData("""{"type":"eq","key":"author","value":"Bob"}""", false)]
    [InlineData("""{"type":"ne","key":"author","value":"alice"}""", true)]
    [InlineData("""{"type":"ne","key":"author","value":"bob"}""", false)]
    [InlineData("""{"type":"gt","key":"author","value":"alice"}""", true)]
    [InlineData("""{"type":"gt","key":"author","value":"bob"}""", false)]
    [InlineData("""{"type":"gte","key":"author","value":"bob"}""", true)]
    [InlineData("""{"type":"lt","key":"author","value":"carol"}""", true)]
    [InlineData("""{"type":"lt","key":"author","value":"bob"}""", false)]
    [InlineData("""{"type":"lte","key":"author","value":"bob"}""", true)]
    [InlineData("""{"type":"lt","key":"author","value":"Z"}""", false)] // ordinal: 'b' (0x62) > 'Z' (0x5A)
    [InlineData("""{"type":"in","key":"author","value":["alice","bob"]}""", true)]
    [InlineData("""{"type":"in","key":"author","value":["alice"]}""", false)]
    [InlineData("""{"type":"nin","key":"author","value":["alice"]}""", true)]
    [InlineData("""{"type":"nin","key":"author","value":["alice","bob"]}""", false)]
    // numbers: numeric, integer and fractional forms compare equal
    [InlineData("""{"type":"eq","key":"year","value":2020}""", true)]
    [InlineData("""{"type":"eq","key":"year","value":2020.0}""", true)]
    [InlineData("""{"type":"eq","key":"year","value":2.02e3}""", true)]
    [InlineData("""{"type":"ne","key":"year","value":2021}""", true)]
    [InlineData("""{"type":"ne","key":"year","value":2020}""", false)]
    [InlineData("""{"type":"gt","key":"year","value":2019}""", true)]
    [InlineData("""{"type":"gt","key":"year","value":2020}""", false)]
    [InlineData("""{"type":"gte","key":"year","value":2020}""", true)]
    [InlineData("""{"type":"lt","key":"rating","value":4.6}""", true)]
    [InlineData("""{"type":"lt","key":"rating","value":4.5}""", false)]
    [InlineData("""{"type":"lte","key":"rating","value":4.5}""", true)]
    [InlineData("""{"type":"gt","key":"year","value":900}""", true)] // numeric, not lexicographic
    [InlineData("""{"type":"in","key":"year","value":[1999,2020]}""", true)]
    [InlineData("""{"type":"nin","key":"year","value":[1999,2021]}""", true)]
    [InlineData("""{"type":"nin","key":"year","value":[2020]}""", false)]
    // booleans
    [InlineData("""{"type":"eq","key":"draft","value":false}""", true)]
    [InlineData("""{"type":"eq","key":"draft","value":true}""", false)]
    [InlineData("""{"type":"ne","key":"draft","value":true}""", true)]
    [InlineData("""{"type":"in","key":"draft","value":[false]}""", true)]
    [InlineData("""{"type":"nin","key":"draft","value":[true]}""", true)]
    // types never compare: a string never equals a number, and ne/nin across kinds are false too
    [InlineData("""{"type":"eq","key":"tag","value":10}""", false)]
    [InlineData("""{"type":"ne","key":"tag","value":10}""", false)]
    [InlineData("""{"type":"eq","key":"year","value":"2020"}""", false)]
    [InlineData("""{"type":"gt","key":"year","value":"1"}""", false)]
    [InlineData("""{"type":"in","key":"year","value":["2020"]}""", false)]
    [InlineData("""{"type":"nin","key":"year","value":["1999"]}""", false)]
    [InlineData("""{"type":"eq","key":"draft","value":"false"}""", false)]
    [InlineData("""{"type":"eq","key":"draft","value":0}""", false)]
    // a missing key never matches, whatever the operator
    [InlineData("""{"type":"eq","key":"missing","value":"x"}""", false)]
    [InlineData("""{"type":"ne","key":"missing","value":"x"}""", false)]
    [InlineData("""{"type":"nin","key":"missing","value":["x"]}""", false)]
    [InlineData("""{"type":"lt","key":"missing","value":5}""", false)]
    [InlineData("""{"type":"ne","key":"Author","value":"x"}""", false)] // keys are case-sensitive
    // compounds and nesting
    [InlineData("""{"type":"and","filters":[{"type":"eq","key":"author","value":"bob"},{"type":"gte","key":"year","value":2020}]}""", true)]
    [InlineData("""{"type":"and","filters":[{"type":"eq","key":"author","value":"bob"},{"type":"gt","key":"year","value":2020}]}""", false)]
    [InlineData("""{"type":"or","filters":[{"type":"eq","key":"author","value":"x"},{"type":"eq","key":"draft","value":false}]}""", true)]
    [InlineData("""{"type":"or","filters":[{"type":"eq","key":"author","value":"x"},{"type":"eq","key":"missing","value":1}]}""", false)]
    [InlineData("""{"type":"and","filters":[{"type":"or","filters":[{"type":"eq","key":"author","value":"x"},{"type":"lt","key":"rating","value":5}]},{"type":"and","filters":[{"type":"ne","key":"draft","value":true}]}]}""", true)]
    // injection-looking keys and values are plain data
    [InlineData("""{"type":"eq","key":"a'; DROP TABLE x;--","value":"bob"}""", false)]
    [InlineData("""{"type":"eq","key":"author","value":"a'; DROP TABLE x;--"}""", false)]
    [InlineData("""{"type":"ne","key":"author","value":"' OR 1=1 --"}""", true)]
    public void Operator_table(string filter, bool expected) =>
        Assert.Equal(expected, FilterParser.Parse(Json(filter)).Matches(Attributes));

    [Fact]
    public void Injection_looking_key_and_value_match_only_as_literal_data()
    {
        var attrs = Attrs("""{"a'; DROP TABLE x;--": "a'; DROP TABLE x;--"}""");
        var filter = FilterParser.Parse(Json("""{"type":"eq","key":"a'; DROP TABLE x;--","value":"a'; DROP TABLE x;--"}"""));
        Assert.True(filter.Matches(attrs));
        Assert.False(filter.Matches(Attributes));
    }

    [Fact]
    public void Escaped_and_unescaped_strings_compare_by_value()
    {
        var attrs = Attrs("""{"name": "caf\u00e9 \"quoted\""}""");
        Assert.True(FilterParser.Parse(Json("""{"type":"eq","key":"name","value":"café \"quoted\""}""")).Matches(attrs));
        Assert.True(FilterParser.Parse(Json("""{"type":"in","key":"name","value":["x","caf\u00e9 \"quoted\""]}""")).Matches(attrs));
    }

    [Fact]
    public void Null_object_and_array_attributes_never_match()
    {
        var attrs = Attrs("""{"a": null, "b": [1], "c": {"d": 1}}""");
        foreach (var key in new[] { "a", "b", "c" })
        {
            Assert.False(FilterParser.Parse(Json($$"""{"type":"ne","key":"{{key}}","value":1}""")).Matches(attrs));
        }
    }

    [Fact]
    public void Parse_builds_the_expected_tree()
    {
        var filter = FilterParser.Parse(Json("""{"type":"or","filters":[{"type":"in","key":"k","value":[1,2,3]},{"type":"eq","key":"b","value":true}]}"""));
        var compound = Assert.IsType<CompoundFilter>(filter);
        Assert.False(compound.IsAnd);
        var first = Assert.IsType<ComparisonFilter>(compound.Filters[0]);
        Assert.Equal(FilterOperator.In, first.Operator);
        Assert.Equal("k", first.Key);
        Assert.Equal([1.0, 2.0, 3.0], first.Values.Select(v => v.Number));
        Assert.Equal(FilterValueKind.Boolean, Assert.IsType<ComparisonFilter>(compound.Filters[1]).Kind);
    }

    [Theory]
    [InlineData("""[]""", "'filters'", "an array")]
    [InlineData("""null""", "'filters'", "null")]
    [InlineData("""{}""", "'filters.type'", "no 'type'")]
    [InlineData("""{"type":5}""", "'filters.type'", "a number")]
    [InlineData("""{"type":"like","key":"a","value":"b"}""", "'filters.type'", "unknown filter type 'like'")]
    [InlineData("""{"type":"EQ","key":"a","value":"b"}""", "'filters.type'", "unknown filter type")]
    [InlineData("""{"type":"eq","value":"b"}""", "'filters.key'", "needs a 'key'")]
    [InlineData("""{"type":"eq","key":3,"value":"b"}""", "'filters.key'", "a number")]
    [InlineData("""{"type":"eq","key":"","value":"b"}""", "'filters.key'", "1 to 64")]
    [InlineData("""{"type":"eq","key":"a"}""", "'filters.value'", "needs a 'value'")]
    [InlineData("""{"type":"eq","key":"a","value":null}""", "'filters.value'", "null")]
    [InlineData("""{"type":"eq","key":"a","value":{"x":1}}""", "'filters.value'", "an object")]
    [InlineData("""{"type":"eq","key":"a","value":["x"]}""", "'filters.value'", "use 'in' or 'nin'")]
    [InlineData("""{"type":"gt","key":"a","value":true}""", "'filters.value'", "booleans can only")]
    [InlineData("""{"type":"lte","key":"a","value":false}""", "'filters.value'", "not 'lte'")]
    [InlineData("""{"type":"in","key":"a","value":"x"}""", "'filters.value'", "takes an array")]
    [InlineData("""{"type":"nin","key":"a","value":[]}""", "'filters.value'", "got 0")]
    [InlineData("""{"type":"in","key":"a","value":["x",1]}""", "'filters.value[1]'", "of one kind")]
    [InlineData("""{"type":"in","key":"a","value":[true,"x"]}""", "'filters.value[1]'", "of one kind")]
    [InlineData("""{"type":"in","key":"a","value":[null]}""", "'filters.value[0]'", "null")]
    [InlineData("""{"type":"in","key":"a","value":[[1]]}""", "'filters.value[0]'", "an array")]
    [InlineData("""{"type":"eq","key":"a","value":1e400}""", "'filters.value'", "out of range")]
    [InlineData("""{"type":"and"}""", "'filters.filters'", "needs a 'filters' array")]
    [InlineData("""{"type":"and","filters":{}}""", "'filters.filters'", "an object")]
    [InlineData("""{"type":"or","filters":[]}""", "'filters.filters'", "got 0")]
    [InlineData("""{"type":"and","filters":[{"type":"eq","key":"a","value":1},{"type":"eq","key":"a","value":1},{"type":"xx"}]}""", "'filters.filters[2].type'", "unknown filter type 'xx'")]
    [InlineData("""{"type":"and","filters":[{"type":"or","filters":[{"type":"eq","key":"a"}]}]}""", "'filters.filters[0].filters[0].value'", "needs a 'value'")]
    [InlineData("""{"type":"and","filters":["eq"]}""", "'filters.filters[0]'", "a string")]
    public void Invalid_filters_are_400_naming_the_path(string filter, string path, string fragment)
    {
        var ex = Assert.Throws<ApiException>(() => FilterParser.Parse(Json(filter)));
        Assert.Equal(ErrorKind.InvalidRequest, ex.Kind);
        Assert.Equal("filters", ex.Param);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_of_64_chars_is_accepted_and_65_rejected()
    {
        FilterParser.Parse(Json($$"""{"type":"eq","key":"{{new string('k', 64)}}","value":1}"""));
        var ex = Assert.Throws<ApiException>(() => FilterParser.Parse(Json($$"""{"type":"eq","key":"{{new string('k', 65)}}","value":1}""")));
        Assert.Contains("has 65", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void In_accepts_100_values_and_rejects_101()
    {
        FilterParser.Parse(Json(InList(100)));
        var ex = Assert.Throws<ApiException>(() => FilterParser.Parse(Json(InList(101))));
        Assert.Contains("got 101", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compound_accepts_32_children_and_rejects_33()
    {
        FilterParser.Parse(Json(Compound(32)));
        var ex = Assert.Throws<ApiException>(() => FilterParser.Parse(Json(Compound(33))));
        Assert.Contains("got 33", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Depth_of_8_is_accepted_and_9_rejected()
    {
        var ok = FilterParser.Parse(Json(Nested(8)));
        Assert.True(ok.Matches(Attrs("""{"a": 1}""")));
        var ex = Assert.Throws<ApiException>(() => FilterParser.Parse(Json(Nested(9))));
        Assert.Contains("at most 8 levels", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'filters" + string.Concat(Enumerable.Repeat(".filters[0]", 8)) + "'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Attribute_updates_are_seen_on_the_next_evaluation()
    {
        var filter = FilterParser.Parse(Json("""{"type":"eq","key":"status","value":"live"}"""));
        var attrs = new Dictionary<string, JsonElement> { ["status"] = Json("\"draft\"") };
        Assert.False(filter.Matches(attrs));
        attrs["status"] = Json("\"live\"");
        Assert.True(filter.Matches(attrs));
    }

    // Nested(n): n filter objects deep — (n-1) single-child 'and's around one comparison.
    private static string Nested(int depth) => depth == 1
        ? """{"type":"eq","key":"a","value":1}"""
        : $$"""{"type":"and","filters":[{{Nested(depth - 1)}}]}""";

    private static string Compound(int children) =>
        $$"""{"type":"or","filters":[{{string.Join(",", Enumerable.Repeat("""{"type":"eq","key":"a","value":1}""", children))}}]}""";

    private static string InList(int count) =>
        $$"""{"type":"in","key":"a","value":[{{string.Join(",", Enumerable.Range(0, count))}}]}""";

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static Dictionary<string, JsonElement> Attrs(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
}
