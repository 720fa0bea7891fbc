using System.Diagnostics;
using Microsoft.Extensions.AI;
using Quiver.Core.Telemetry;

namespace Quiver.Core.Embeddings;

/// <summary>
/// A registered embedding model: its <see cref="Info"/> and generator, plus the two calls ingestion
/// and search make. Every vector returned is unit length with <see cref="EmbeddingModelInfo.Dimensions"/>
/// entries, so cosine similarity is a dot product.
/// </summary>
internal sealed class EmbeddingModel(EmbeddingModelInfo info, IEmbeddingGenerator<string, Embedding<float>> generator)
{
    public EmbeddingModelInfo Info { get; } = info;

    public IEmbeddingGenerator<string, Embedding<float>> Generator { get; } = generator;

    /// <summary>
    /// An ensemble: every text is embedded by each of <paramref name="parts"/> and the vectors are
    /// joined (<see cref="ConcatenatedEmbeddingGenerator"/>), so a search scores a chunk by the mean of
    /// the parts' cosines. <paramref name="info"/> must give the summed dimensions and a window no
    /// larger than the smallest part's; its query prefix is unused (each part applies its own).
    /// </summary>
    public static EmbeddingModel Concatenation(EmbeddingModelInfo info, IReadOnlyList<EmbeddingModel> parts)
    {
        var dimensions = ConcatenatedEmbeddingGenerator.Dimensions(parts);
        if (info.Dimensions != dimensions || info.QueryPrefix is not null || parts.Any(p => p.Info.MaxInputTokens < info.MaxInputTokens))
        {
            throw new ArgumentException(
                $"Ensemble '{info.Id}' must have {dimensions} dimensions, no query prefix and a window no larger than its parts'.", nameof(info));
        }

        return new EmbeddingModel(info, new ConcatenatedEmbeddingGenerator(info.Model, parts));
    }

    /// <summary>Embeds document chunks (no query prefix); one vector per text, in order.</summary>
    /// <exception cref="EmbeddingException">The model failed; see <see cref="EmbeddingException.IsTransient"/>.</exception>
    public Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct) => EmbedAsync(texts, "document", ct);

    private async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, string purpose, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            return [];
        }

        var started = Stopwatch.GetTimestamp();
        var embeddings = await Generator.GenerateAsync(texts, cancellationToken: ct);
        var tags = new TagList { { "model", Info.Id }, { "purpose", purpose } };
        QuiverTelemetry.EmbeddingDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        QuiverTelemetry.EmbeddingBatchSize.Record(texts.Count, tags);
        if (embeddings.Count != texts.Count)
        {
            throw new EmbeddingException(
                $"Embedding model '{Info.Id}' returned {embeddings.Count} embeddings for {texts.Count} inputs.",
                isTransient: false);
        }

        var vectors = new float[texts.Count][];
        for (var i = 0; i < vectors.Length; i++)
        {
            var vector = embeddings[i].Vector;
            if (vector.Length != Info.Dimensions)
            {
                throw new EmbeddingException(
                    $"Embedding model '{Info.Id}' returned {vector.Length} dimensions but is registered with {Info.Dimensions}.",
                    isTransient: false);
            }

            // Copy and normalise: generators other than ours (tests, future providers) need not return unit vectors.
            vectors[i] = vector.ToArray();
            EmbeddingVectors.Normalize(vectors[i]);
        }

        return vectors;
    }

    /// <summary>Embeds a search query, applying the model's query prefix (an ensemble's parts each apply theirs, concurrently).</summary>
    /// <exception cref="EmbeddingException">The model failed; see <see cref="EmbeddingException.IsTransient"/>.</exception>
    public async Task<float[]> EmbedQueryAsync(string query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (Generator is ConcatenatedEmbeddingGenerator ensemble)
        {
            return await ensemble.EmbedQueryAsync(query, ct);
        }

        var vectors = await EmbedAsync([Info.QueryPrefix + query], "query", ct);
        return vectors[0];
    }
}
