namespace Quiver.Core.Embeddings;

/// <summary>
/// Embedding configuration, bound from <c>Quiver:Embeddings</c>:
/// <code>
/// "Quiver": { "Embeddings": {
///   "Default": "local:snowflake-arctic-embed-xs",
///   "IntraOpThreads": 0,
///   "Remote": [ { "Id": "openai:text-embedding-3-small", "ApiKey": "sk-…", "Dimensions": 1536 } ]
/// } }
/// </code>
/// </summary>
internal sealed class EmbeddingOptions
{
    public const string Section = "Quiver:Embeddings";

    /// <summary>Model id that <c>auto</c> resolves to. Default <c>local:snowflake-arctic-embed-xs</c>.</summary>
    public string Default { get; set; } = EmbeddingDefaults.DefaultModelId;

    /// <summary>ONNX Runtime intra-op threads for local models; 0 (default) means the processor count.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Remote OpenAI-compatible models, each registered under its <see cref="RemoteEmbeddingOptions.Id"/>.</summary>
    public List<RemoteEmbeddingOptions> Remote { get; set; } = [];
}
