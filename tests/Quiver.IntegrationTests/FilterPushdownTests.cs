using System.Text.Json;
using System.Text.Json.Nodes;
using Quiver.Core.Search;
using Quiver.Core.VectorStores;
using Quiver.IntegrationTests.Infrastructure;
using Quiver.Server.Contracts;

namespace Quiver.IntegrationTests;

/// <summary>Filters applied inside each backend's retrieval agree with the reference evaluator, on the embedded backend.</summary>
public sealed class FilterPushdownTests(QuiverFactory factory) : FilterPushdownContract<QuiverFactory>(factory);

/// <summary>The same on PostgreSQL, where the filter becomes a SQL predicate over the file's attributes.</summary>
public sealed class FilterPushdownPostgresTests : FilterPushdownContract<PostgresQuiverFactory>
{
    public FilterPushdownPostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();
}

/// <summary>
/// Random filters (fixed seed) over files with attributes of every kind, searched through HTTP: the files a
/// search returns are exactly those the in-memory reference (<see cref="AttributeFilter.Matches"/>) accepts.
/// Every file holds the query word in one chunk, and the result limit exceeds the file count, so the filter
/// alone decides membership — on both the dense and the lexical leg.
/// </summary>
public abstract class FilterPushdownContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    private const int Files = 24;
    private const int Filters = 120;
    private static readonly string[] Keys = ["n", "s", "flag", "absent"];
    private static readonly string[] Strings = ["a", "ab", "b", "B", "é", "10", ""];

    [Fact]
    public async Task Random_filters_return_exactly_the_matching_files()
    {
        const string prefix = "/v1";
        var random = new Random(20261206);
        var client = factory.CreateApiClient(onBehalfOf: "user-" + Guid.NewGuid().ToString("N"));
        var storeId = (string)(await client.CreateStoreAsync(prefix))["id"]!;

        var attributesByFile = new Dictionary<string, AttributeMap>();
        var fileIds = new List<string>();
        for (var i = 0; i < Files; i++)
        {
            var attributes = RandomAttributes(random);
            var fileId = (string)(await client.UploadAsync(prefix, $"f{i}.txt", $"lighthouse keeper note number {i}"))["id"]!;
            await client.AttachAsync(prefix, storeId, fileId, ",\"attributes\":" + attributes.ToJsonString());
            attributesByFile[fileId] = AttributeMap.FromJson(attributes.ToJsonString());
            fileIds.Add(fileId);
        }

        foreach (var fileId in fileIds)
        {
            Assert.Equal("completed", (string?)(await client.WaitForFileAsync(prefix, storeId, fileId))["status"]);
        }

        foreach (var ranker in new[] { "auto", "none" })
        {
            for (var i = 0; i < Filters; i++)
            {
                var filterJson = RandomFilter(random, depth: 1).ToJsonString();
                var filter = FilterParser.Parse(JsonDocument.Parse(filterJson).RootElement);
                var expected = attributesByFile.Where(f => filter.Matches(f.Value.Values)).Select(f => f.Key).Order(StringComparer.Ordinal).ToArray();

                var page = await client.PostJsonAsync($"{prefix}/vector_stores/{storeId}/search",
                    $$"""{"query":"lighthouse keeper","max_num_results":50,"ranking_options":{"ranker":"{{ranker}}"},"filters":{{filterJson}}}""");
                var found = page["data"]!.AsArray().Select(d => (string)d!["file_id"]!).Distinct().Order(StringComparer.Ordinal).ToArray();
                Assert.True(expected.SequenceEqual(found),
                    $"ranker {ranker}, filter {filterJson}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", found)}]");
            }
        }
    }

    private static JsonObject RandomAttributes(Random random)
    {
        var attributes = new JsonObject();
        foreach (var key in Keys.Take(3))
        {
            if (random.Next(5) > 0) // sometimes missing
            {
                attributes[key] = RandomValue(random, random.Next(3));
            }
        }

        return attributes;
    }

    /// <summary>kind 0: string, 1: number, 2: boolean.</summary>
    private static JsonNode RandomValue(Random random, int kind) => kind switch
    {
        0 => JsonValue.Create(Strings[random.Next(Strings.Length)]),
        1 => JsonValue.Create(random.Next(4) == 0 ? random.Next(-3, 4) + 0.5 : random.Next(-3, 4)),
        _ => JsonValue.Create(random.Next(2) == 0),
    };

    private static JsonObject RandomFilter(Random random, int depth)
    {
        if (depth < 3 && random.Next(3) == 0)
        {
            var children = new JsonArray();
            for (var i = random.Next(1, 4); i > 0; i--)
            {
                children.Add(RandomFilter(random, depth + 1));
            }

            return new JsonObject { ["type"] = random.Next(2) == 0 ? "and" : "or", ["filters"] = children };
        }

        var kind = random.Next(3);
        string[] operators = kind == 2 ? ["eq", "ne", "in", "nin"] : ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"];
        var op = operators[random.Next(operators.Length)];
        JsonNode value = op is "in" or "nin"
            ? new JsonArray([.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => RandomValue(random, kind))])
            : RandomValue(random, kind);
        return new JsonObject { ["type"] = op, ["key"] = Keys[random.Next(Keys.Length)], ["value"] = value };
    }
}
