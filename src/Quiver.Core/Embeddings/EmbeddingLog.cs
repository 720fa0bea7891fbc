using Microsoft.Extensions.Logging;

namespace Quiver.Core.Embeddings;

internal static partial class EmbeddingLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Loaded local embedding model {ModelId} with {Threads} intra-op threads in {ElapsedMs:F0} ms")]
    public static partial void LocalModelLoaded(ILogger logger, string modelId, int threads, double elapsedMs);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Embedding request to {ModelId} failed on attempt {Attempt} of {MaxAttempts} ({Reason}); retrying in {DelayMs:F0} ms")]
    public static partial void RemoteRetry(ILogger logger, string modelId, int attempt, int maxAttempts, string reason, double delayMs);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "Embedded {Inputs} inputs ({Tokens} tokens) with {ModelId} in {ElapsedMs:F0} ms")]
    public static partial void RemoteBatchDone(ILogger logger, string modelId, int inputs, int tokens, double elapsedMs);
}
