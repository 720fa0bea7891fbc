using Quiver.Core.VectorStores;

namespace Quiver.Core.Search;

/// <summary>How results are ranked (<c>ranking_options.ranker</c>).</summary>
public enum Ranker
{
    /// <summary><c>auto</c> / <c>default-2024-11-15</c>: hybrid dense + BM25, fused.</summary>
    Hybrid,

    /// <summary><c>none</c>: dense similarity only.</summary>
    DenseOnly,

    /// <summary>Lexical only (benchmarks; not reachable from the API).</summary>
    LexicalOnly,
}

/// <summary>A validated search.</summary>
/// <param name="Queries">1..16 query strings.</param>
/// <param name="MaxResults">Results wanted (the API allows 1..50).</param>
/// <param name="Filter">Attribute filter over files, or null.</param>
/// <param name="Ranker">Ranking mode.</param>
/// <param name="ScoreThreshold">Results scoring below it are dropped.</param>
/// <param name="Weights">Explicit <c>hybrid_search</c> weights: switches fusion to the weighted form.</param>
/// <param name="RewriteQuery">Apply the deterministic rewrite before searching.</param>
internal sealed record SearchRequest(
    IReadOnlyList<string> Queries,
    int MaxResults,
    AttributeFilter? Filter,
    Ranker Ranker,
    float ScoreThreshold,
    HybridWeights? Weights,
    bool RewriteQuery);

/// <summary>One result: a chunk with its file.</summary>
internal sealed record SearchResultItem(string FileId, string Filename, float Score, AttributeMap Attributes, string Text, long ChunkKey);

/// <summary>What a search returns: the queries actually used and the ranked results.</summary>
internal sealed record SearchResult(IReadOnlyList<string> SearchQueries, IReadOnlyList<SearchResultItem> Items);
