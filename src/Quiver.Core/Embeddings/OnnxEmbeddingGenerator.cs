using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Quiver.Core.Embeddings;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over a local ONNX model. The model loads on
/// first use (once per process, thread-safe), so registering it costs nothing at startup. Embeds
/// documents as given: query prefixes are applied by <see cref="EmbeddingModel.EmbedQueryAsync"/>.
/// Returned vectors are unit length; texts longer than the window are windowed and pooled.
/// </summary>
internal sealed class OnnxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly LocalModelSpec _spec;
    private readonly Lazy<OnnxEncoder> _encoder;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <param name="spec">The model.</param>
    /// <param name="intraOpThreads">Read at load time; 0 or less means <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="logger">Logs the load.</param>
    public OnnxEmbeddingGenerator(LocalModelSpec spec, Func<int> intraOpThreads, ILogger<OnnxEmbeddingGenerator> logger)
    {
        _spec = spec;
        _metadata = new EmbeddingGeneratorMetadata("local", null, spec.Info.Model, spec.Info.Dimensions);
        _encoder = new Lazy<OnnxEncoder>(
            () =>
            {
                var threads = intraOpThreads();
                threads = threads > 0 ? threads : Environment.ProcessorCount;
                var started = Stopwatch.GetTimestamp();
                var encoder = OnnxEncoder.Load(spec, threads);
                EmbeddingLog.LocalModelLoaded(logger, spec.Info.Id, threads, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return encoder;
            },
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>True once the model has been loaded.</summary>
    public bool IsLoaded => _encoder.IsValueCreated;

    /// <summary>The word-piece ids the model sees for <paramref name="text"/>, without [CLS]/[SEP]; loads the model.</summary>
    public long[] TokenIds(string text) => _encoder.Value.TokenIds(text);

    /// <inheritdoc/>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        if (texts.Count == 0)
        {
            return [];
        }

        // Inference is CPU-bound and can take seconds for a large batch; keep it off the caller's thread.
        var (vectors, tokens) = await Task.Run(
            () =>
            {
                try
                {
                    return _encoder.Value.Embed(texts, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new EmbeddingException($"Local embedding model '{_spec.Info.Id}' failed: {ex.Message}", isTransient: false, ex);
                }
            },
            cancellationToken);

        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Length)
        {
            Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens },
        };
        foreach (var vector in vectors)
        {
            result.Add(new Embedding<float>(vector) { ModelId = _spec.Info.Model });
        }

        return result;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        GeneratorServices.Get(this, _metadata, serviceType, serviceKey);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }
    }
}
