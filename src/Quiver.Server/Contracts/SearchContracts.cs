using System.Text.Json;

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

/// <summary>Body of search (for the OpenAPI document; parsed by hand).</summary>
public sealed record SearchRequestBody(JsonElement Query, int? MaxNumResults, JsonElement? Filters, RankingOptionsRequest? RankingOptions, bool? RewriteQuery);
