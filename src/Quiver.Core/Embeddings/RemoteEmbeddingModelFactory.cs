using Microsoft.Extensions.Logging;

namespace Quiver.Core.Embeddings;

/// <summary>Builds the <see cref="EmbeddingModel"/> for a <c>Quiver:Embeddings:Remote</c> entry.</summary>
internal sealed class RemoteEmbeddingModelFactory(IHttpClientFactory httpClients, TimeProvider time, ILogger<OpenAIEmbeddingGenerator> logger)
{
    /// <summary>Name of the <see cref="IHttpClientFactory"/> client used by remote models.</summary>
    public const string HttpClientName = "Quiver.Embeddings.Remote";

    public EmbeddingModel Create(RemoteEmbeddingOptions options)
    {
        var generator = new OpenAIEmbeddingGenerator(options, httpClients.CreateClient(HttpClientName), time, logger);
        return new EmbeddingModel(options.ToModelInfo(), generator);
    }
}
