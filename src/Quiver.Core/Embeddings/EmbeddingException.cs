namespace Quiver.Core.Embeddings;

/// <summary>
/// An embedding request failed. <see cref="IsTransient"/> tells the ingestion worker whether trying
/// again later can succeed (rate limits, 5xx, timeouts) or the job must fail (bad request, bad
/// credentials, unknown model, wrong dimensions, malformed response).
/// </summary>
internal sealed class EmbeddingException(string message, bool isTransient, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>True when the same request may succeed if retried later.</summary>
    public bool IsTransient { get; } = isTransient;

    /// <summary>HTTP status of the last remote response, or null for local models and network errors.</summary>
    public int? StatusCode { get; init; }
}
