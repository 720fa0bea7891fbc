using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Quiver.Core.Embeddings;

namespace Quiver.IntegrationTests.Infrastructure;

/// <summary>
/// A fast deterministic embedder for tests: each lower-cased word is hashed to a few of 64
/// dimensions, so texts sharing words are close. An optional gate lets a test hold embedding
/// calls (to cancel or crash mid-ingestion deterministically).
/// </summary>
public sealed class TestEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ModelId = "test:hash-64";
    public const int Dimensions = 64;

    /// <summary>While not null, every call waits for this task (or cancellation) before answering.</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>How many of the next calls fail with an I/O error, which ingestion treats as transient.</summary>
    public int FailingCalls
    {
        get => Volatile.Read(ref _failingCalls);
        set => Volatile.Write(ref _failingCalls, value);
    }

    /// <summary>Number of calls that have started.</summary>
    public int Calls => _calls;

    /// <summary>The first input of every call, in the order calls started (to check scheduling order).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> FirstInputs { get; } = new();

    private int _calls;
    private int _failingCalls;

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        var inputs = values as IList<string> ?? [.. values];
        if (inputs.Count > 0)
        {
            FirstInputs.Enqueue(inputs[0]);
        }

        values = inputs;
        if (TakeFailure())
        {
            throw new IOException("The test embedder failed this call on purpose.");
        }

        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return [.. values.Select(v => new Embedding<float>(Embed(v)))];
    }

    private bool TakeFailure()
    {
        var left = Volatile.Read(ref _failingCalls);
        while (left > 0)
        {
            var seen = Interlocked.CompareExchange(ref _failingCalls, left - 1, left);
            if (seen == left)
            {
                return true;
            }

            left = seen;
        }

        return false;
    }

    public static float[] Embed(string text)
    {
        var vector = new float[Dimensions];
        foreach (var word in text.ToLowerInvariant().Split((char[])[' ', '\n', '\t', '.', ',', ';', ':', '!', '?', '(', ')', '"'], StringSplitOptions.RemoveEmptyEntries))
        {
            var hash = MD5.HashData(Encoding.UTF8.GetBytes(word));
            vector[hash[0] % Dimensions] += 1f;
            vector[hash[1] % Dimensions] += 0.5f;
        }

        vector[0] += 0.01f; // never all zeros
        return vector;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    /// <summary>Registers the generator as a model and makes it the default (<c>auto</c>).</summary>
    public static void Register(IServiceCollection services, TestEmbeddingGenerator generator)
    {
        services.AddSingleton(new EmbeddingModel(
            new EmbeddingModelInfo(ModelId, "test", "hash-64", Dimensions, 8192, 64, 200, 50), generator));
    }
}
