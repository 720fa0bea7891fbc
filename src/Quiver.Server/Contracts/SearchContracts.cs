using System.Text.Json;
using Quiver.Core.Errors;
using Quiver.Core.Search;
using Quiver.Server.Endpoints;

namespace Quiver.Server.Contracts;

/// <summary>One search result (MKA1 reference §3.6).</summary>
public sealed record SearchResultObject(string FileId, string Filename, float Score, IReadOnlyDictionary<string, JsonElement> Attributes, IReadOnlyList<ContentPart> Content);

/// <summary>MKA1 search page: <c>search_query</c> is one string (array queries joined with a space).</summary>
public sealed record SearchResultsPage(string Object, string SearchQuery, IReadOnlyList<SearchResultObject> Data, bool HasMore, string? NextPage);

/// <summary>OpenAI search page: <c>search_query</c> is an array of strings.</summary>
public sealed record SearchResultsPageOpenAi(string Object, IReadOnlyList<string> SearchQuery, IReadOnlyList<SearchResultObject> Data, bool HasMore, string? NextPage);

/// <summary>Ranking options of a search request.</summary>
public sealed record RankingOptionsRequest(string? Ranker, float? ScoreThreshold, HybridSearchRequest? HybridSearch);

/// <summary>Explicit fusion weights, as the Responses API's file_search takes them.</summary>
public sealed record HybridSearchRequest(double EmbeddingWeight, double TextWeight);

/// <summary>Body of search; <see cref="Parse"/> validates it into Core's <see cref="SearchRequest"/>.</summary>
/// <param name="Query">One query string or an array of 1 to 16 of them, each 1 to 4096 characters and not blank: a union, so declared as any JSON value.</param>
/// <param name="MaxNumResults">1 to 50 (default 10).</param>
/// <param name="Filters">One comparison filter (<c>key</c>, <c>type</c>, <c>value</c>) or a compound one (<c>and</c>/<c>or</c> over <c>filters</c>): a union, so declared as any JSON value.</param>
/// <param name="RankingOptions"><c>ranker</c>, <c>score_threshold</c> (0 to 1) and explicit <c>hybrid_search</c> weights.</param>
/// <param name="RewriteQuery">Apply the deterministic query rewrite before searching (default false).</param>
public sealed record SearchRequestBody(JsonElement Query, int? MaxNumResults, JsonElement? Filters, RankingOptionsRequest? RankingOptions, bool? RewriteQuery)
{
    public const int MaxQueryLength = 4096;
    public const int MaxQueries = 16;
    public const int MaxResults = 50;
    public const int DefaultResults = 10;

    internal static SearchRequest Parse(JsonElement body)
    {
        var queries = ParseQueries(body.Get("query"));
        var max = DefaultResults;
        if (body.Get("max_num_results") is { ValueKind: not JsonValueKind.Null } maxValue)
        {
            if (maxValue.ValueKind != JsonValueKind.Number || !maxValue.TryGetInt32(out max) || max is < 1 or > MaxResults)
            {
                throw ApiErrors.BadRequest($"Invalid 'max_num_results': expected an integer from 1 to {MaxResults}.", "max_num_results", "invalid_value");
            }
        }

        var filter = body.Get("filters") is { ValueKind: not JsonValueKind.Null } filters ? FilterParser.Parse(filters) : null;
        var rewrite = body.OptionalBool("rewrite_query") ?? false;

        var ranker = Ranker.Hybrid;
        var threshold = 0f;
        HybridWeights? weights = null;
        if (body.Get("ranking_options") is { ValueKind: not JsonValueKind.Null } options)
        {
            if (options.ValueKind != JsonValueKind.Object)
            {
                throw JsonBody.InvalidType("ranking_options", "an object", options);
            }

            ranker = options.OptionalString("ranker", 64) switch
            {
                null or "auto" or "default-2024-11-15" => Ranker.Hybrid,
                "none" => Ranker.DenseOnly,
                var other => throw ApiErrors.BadRequest($"Invalid 'ranking_options.ranker': '{ApiErrors.Truncate(other)}'. Expected 'auto', 'default-2024-11-15' or 'none'.", "ranking_options", "invalid_value"),
            };

            if (options.Get("score_threshold") is { ValueKind: not JsonValueKind.Null } t)
            {
                if (t.ValueKind != JsonValueKind.Number || t.GetDouble() is < 0 or > 1)
                {
                    throw ApiErrors.BadRequest("Invalid 'ranking_options.score_threshold': expected a number from 0 to 1.", "ranking_options", "invalid_value");
                }

                threshold = (float)t.GetDouble();
            }

            if (options.Get("hybrid_search") is { ValueKind: not JsonValueKind.Null } hybrid)
            {
                weights = new HybridWeights(ReadWeight(hybrid, "embedding_weight"), ReadWeight(hybrid, "text_weight"));
                if (weights.Value.Embedding + weights.Value.Text <= 0)
                {
                    throw ApiErrors.BadRequest("Invalid 'ranking_options.hybrid_search': at least one weight must be positive.", "ranking_options", "invalid_value");
                }
            }
        }

        return new SearchRequest(queries, max, filter, ranker, threshold, weights, rewrite);
    }

    private static double ReadWeight(JsonElement hybrid, string name) =>
        hybrid.ValueKind == JsonValueKind.Object && hybrid.Get(name) is { ValueKind: JsonValueKind.Number } w && w.GetDouble() is >= 0 and <= 1000
            ? w.GetDouble()
            : throw ApiErrors.BadRequest($"Invalid 'ranking_options.hybrid_search.{name}': expected a non-negative number.", "ranking_options", "invalid_value");

    private static List<string> ParseQueries(JsonElement? value)
    {
        List<string> queries = value switch
        {
            null or { ValueKind: JsonValueKind.Null } => throw ApiErrors.BadRequest("Missing required parameter: 'query'.", "query", "missing_required_parameter"),
            { ValueKind: JsonValueKind.String } s => [s.GetString()!],
            { ValueKind: JsonValueKind.Array } a => [.. a.EnumerateArray().Select(q => q.ValueKind == JsonValueKind.String
                ? q.GetString()!
                : throw ApiErrors.BadRequest("Invalid 'query': every entry must be a string.", "query", "invalid_type"))],
            { } other => throw JsonBody.InvalidType("query", "a string or an array of strings", other),
        };

        if (queries.Count is 0 or > MaxQueries)
        {
            throw ApiErrors.BadRequest($"Invalid 'query': expected 1 to {MaxQueries} queries, got {queries.Count}.", "query", "invalid_value");
        }

        if (queries.Any(q => string.IsNullOrWhiteSpace(q) || q.Length > MaxQueryLength))
        {
            throw ApiErrors.BadRequest($"Invalid 'query': each query must be 1 to {MaxQueryLength} characters and not blank.", "query", "invalid_value");
        }

        return queries;
    }
}

