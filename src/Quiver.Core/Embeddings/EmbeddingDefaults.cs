namespace Quiver.Core.Embeddings;

/// <summary>Defaults and limits of the embeddings component, each with its unit.</summary>
internal static class EmbeddingDefaults
{
    /// <summary>Model id that <c>auto</c> resolves to unless <c>Quiver:Embeddings:Default</c> says otherwise.</summary>
    public const string DefaultModelId = LocalModels.ArcticXsId;

    /// <summary>The id that stands for the configured default model.</summary>
    public const string AutoId = "auto";

    /// <summary>Prefix of remote OpenAI-compatible model ids.</summary>
    public const string OpenAIIdPrefix = "openai:";

    /// <summary>Remote endpoint used when an entry has no <c>BaseUrl</c>.</summary>
    public const string OpenAIBaseUrl = "https://api.openai.com/v1";

    /// <summary>Remote inputs per request (OpenAI accepts up to 2048).</summary>
    public const int RemoteMaxBatchSize = 256;

    /// <summary>Remote cl100k_base tokens per request (OpenAI rejects requests above 300,000).</summary>
    public const int RemoteMaxBatchTokens = 100_000;

    /// <summary>Remote model window, in cl100k_base tokens (text-embedding-3-* and ada-002).</summary>
    public const int RemoteMaxInputTokens = 8191;

    /// <summary>Remote <c>auto</c> chunk size, in cl100k_base tokens (OpenAI's own default).</summary>
    public const int RemoteAutoChunkTokens = 800;

    /// <summary>Remote <c>auto</c> chunk overlap, in cl100k_base tokens (OpenAI's own default).</summary>
    public const int RemoteAutoOverlapTokens = 400;

    /// <summary>Attempts per remote request, including the first.</summary>
    public const int RemoteMaxAttempts = 5;

    /// <summary>Time allowed for one remote attempt, in seconds.</summary>
    public const int RemoteTimeoutSeconds = 60;

    /// <summary>First retry delay before jitter; doubles with every attempt.</summary>
    public static readonly TimeSpan RetryBaseDelay = TimeSpan.FromSeconds(1);

    /// <summary>Longest computed backoff delay.</summary>
    public static readonly TimeSpan RetryMaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>Longest <c>Retry-After</c> honoured; a server asking for more is capped so a job is not parked for hours.</summary>
    public static readonly TimeSpan RetryAfterMax = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Local models: padded tokens (batch rows × longest row) per ONNX run. Bounds activation memory,
    /// which ONNX Runtime's arena keeps at its peak: measured with arctic at ~470 tokens, 4096 peaks
    /// ~230 MB above the loaded model and 8192 ~460 MB, at the same throughput (CPU-bound either way).
    /// </summary>
    public const int LocalMaxBatchTokens = 4096;

    /// <summary>Local models: most rows per ONNX run, whatever their length.</summary>
    public const int LocalMaxBatchRows = 64;
}
