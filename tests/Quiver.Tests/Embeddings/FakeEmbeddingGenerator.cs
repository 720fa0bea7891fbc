using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace Quiver.Tests.Embeddings;

/// <summary>Deterministic embeddings from a hash of the text; no model, no network.</summary>
internal sealed class FakeEmbeddingGenerator(int dimensions) : IEmbeddingGenerator<string, Embedding<float>>
{
    public int Calls { get; private set; }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(value));
            result.Add(new Embedding<float>(Enumerable.Range(0, dimensions).Select(i => hash[i % hash.Length] - 127.5f).ToArray()));
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
