namespace Quiver.Server.Contracts;

/// <summary>One embedding as a float array.</summary>
public sealed record EmbeddingItem(string Object, float[] Embedding, int Index);

/// <summary>One embedding as base64 of little-endian float32 (<c>encoding_format=base64</c>).</summary>
public sealed record EmbeddingBase64Item(string Object, string Embedding, int Index);

/// <summary>Token usage of an embeddings call (cl100k_base tokens).</summary>
public sealed record EmbeddingUsage(long PromptTokens, long TotalTokens);

/// <summary>Answer of <c>POST /embeddings</c> with float vectors.</summary>
public sealed record EmbeddingsResponse(string Object, IReadOnlyList<EmbeddingItem> Data, string Model, EmbeddingUsage Usage);

/// <summary>Answer of <c>POST /embeddings</c> with base64 vectors.</summary>
public sealed record EmbeddingsBase64Response(string Object, IReadOnlyList<EmbeddingBase64Item> Data, string Model, EmbeddingUsage Usage);

/// <summary>Request of <c>POST /embeddings</c> (for the OpenAPI document; parsed by hand).</summary>
public sealed record EmbeddingsRequest(System.Text.Json.JsonElement Input, string Model, int? Dimensions, string? EncodingFormat, string? User);

/// <summary>Per-model limits (MKA1 reference §5.1).</summary>
public sealed record EmbeddingModelLimits(int MaxBatchSize, int MaxInputTokens, int MaxInputLength);

/// <summary>An entry of <c>GET /embeddings/models</c>.</summary>
public sealed record EmbeddingModelObject(string Id, string Provider, string Model, int Dimensions, EmbeddingModelLimits Limits);

/// <summary>An entry of the OpenAI-style <c>GET /models</c>.</summary>
public sealed record ModelObject(string Id, string Object, long Created, string OwnedBy);

/// <summary>A plain list without cursors.</summary>
public sealed record SimpleList<T>(string Object, IReadOnlyList<T> Data);
