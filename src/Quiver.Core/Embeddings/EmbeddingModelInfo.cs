namespace Quiver.Core.Embeddings;

/// <summary>
/// What the rest of Quiver needs to know about an embedding model: its id, the size of its vectors,
/// how much text one input may hold and what chunking strategy <c>auto</c> resolves to for it.
/// </summary>
/// <param name="Id">Registry id, e.g. <c>local:snowflake-arctic-embed-xs</c> or <c>openai:text-embedding-3-small</c>.</param>
/// <param name="Provider"><c>local</c> or <c>openai</c>.</param>
/// <param name="Model">The provider's own model name.</param>
/// <param name="Dimensions">Length of every vector the model returns.</param>
/// <param name="MaxInputTokens">The model window, in the model's own tokens. Longer inputs are split into windows and pooled.</param>
/// <param name="MaxBatchSize">How many texts a caller should pass per call for good throughput.</param>
/// <param name="AutoChunkTokens">Chunk size, in cl100k_base tokens, that the <c>auto</c> chunking strategy uses for this model.</param>
/// <param name="AutoOverlapTokens">Chunk overlap, in cl100k_base tokens, that the <c>auto</c> chunking strategy uses for this model.</param>
/// <param name="QueryPrefix">Text put in front of search queries (not documents), or null.</param>
internal sealed record EmbeddingModelInfo(
    string Id,
    string Provider,
    string Model,
    int Dimensions,
    int MaxInputTokens,
    int MaxBatchSize,
    int AutoChunkTokens,
    int AutoOverlapTokens,
    string? QueryPrefix = null);
