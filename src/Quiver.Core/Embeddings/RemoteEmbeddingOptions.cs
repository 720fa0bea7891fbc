namespace Quiver.Core.Embeddings;

/// <summary>One remote OpenAI-compatible embedding model (an entry of <c>Quiver:Embeddings:Remote</c>).</summary>
internal sealed class RemoteEmbeddingOptions
{
    /// <summary>Registry id; must start with <c>openai:</c>, e.g. <c>openai:text-embedding-3-small</c>.</summary>
    public string Id { get; set; } = "";

    /// <summary>API root that <c>/embeddings</c> is appended to. Default <c>https://api.openai.com/v1</c>.</summary>
    public string BaseUrl { get; set; } = EmbeddingDefaults.OpenAIBaseUrl;

    /// <summary>Sent as <c>Authorization: Bearer …</c>; leave empty for servers that need no key.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The provider's model name; default is the id without <c>openai:</c>.</summary>
    public string? Model { get; set; }

    /// <summary>Vector length; optional for text-embedding-3-small/-large and ada-002, required otherwise.</summary>
    public int? Dimensions { get; set; }

    /// <summary>Inputs per request. Default 256.</summary>
    public int MaxBatchSize { get; set; } = EmbeddingDefaults.RemoteMaxBatchSize;

    /// <summary>cl100k_base tokens per request. Default 100,000.</summary>
    public int MaxBatchTokens { get; set; } = EmbeddingDefaults.RemoteMaxBatchTokens;

    /// <summary>Model window in cl100k_base tokens; longer inputs are windowed and pooled. Default 8191.</summary>
    public int MaxInputTokens { get; set; } = EmbeddingDefaults.RemoteMaxInputTokens;

    /// <summary>Attempts per request including the first. Default 5.</summary>
    public int MaxAttempts { get; set; } = EmbeddingDefaults.RemoteMaxAttempts;

    /// <summary>Seconds allowed for one attempt. Default 60.</summary>
    public int TimeoutSeconds { get; set; } = EmbeddingDefaults.RemoteTimeoutSeconds;

    /// <summary>The model name sent to the provider.</summary>
    public string ResolvedModel => string.IsNullOrWhiteSpace(Model)
        ? (Id.StartsWith(EmbeddingDefaults.OpenAIIdPrefix, StringComparison.OrdinalIgnoreCase) ? Id[EmbeddingDefaults.OpenAIIdPrefix.Length..] : Id)
        : Model;

    /// <summary>The configured dimensions, or the known size of well-known OpenAI models, or null.</summary>
    public int? ResolvedDimensions => Dimensions ?? ResolvedModel switch
    {
        "text-embedding-3-small" => 1536,
        "text-embedding-3-large" => 3072,
        "text-embedding-ada-002" => 1536,
        _ => null,
    };

    public EmbeddingModelInfo ToModelInfo() => new(
        Id: Id,
        Provider: "openai",
        Model: ResolvedModel,
        Dimensions: ResolvedDimensions ?? 0,
        MaxInputTokens: MaxInputTokens,
        MaxBatchSize: MaxBatchSize,
        AutoChunkTokens: EmbeddingDefaults.RemoteAutoChunkTokens,
        AutoOverlapTokens: EmbeddingDefaults.RemoteAutoOverlapTokens);
}
