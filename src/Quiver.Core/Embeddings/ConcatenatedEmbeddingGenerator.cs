using Microsoft.Extensions.AI;

namespace Quiver.Core.Embeddings;

/// <summary>
/// Embeds each text with every part model and joins the part vectors, each unit length and scaled by
/// 1/√n, into one unit vector. The dot product of two joined vectors is then the mean of the parts'
/// cosine similarities, so every index, filter and backend that handles one model's vectors handles
/// an ensemble unchanged. <see cref="GenerateAsync"/> embeds documents; <see cref="EmbedQueryAsync"/>
/// (reached through <see cref="EmbeddingModel.EmbedQueryAsync"/>) lets each part apply its own query prefix.
/// </summary>
internal sealed class ConcatenatedEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly IReadOnlyList<EmbeddingModel> _parts;
    private readonly EmbeddingGeneratorMetadata _metadata;
    private readonly string _modelName;

    public ConcatenatedEmbeddingGenerator(string modelName, IReadOnlyList<EmbeddingModel> parts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts.Count, 2);
        _parts = parts;
        _modelName = modelName;
        _metadata = new EmbeddingGeneratorMetadata("local", null, modelName, Dimensions(parts));
    }

    public static int Dimensions(IReadOnlyList<EmbeddingModel> parts) => parts.Sum(p => p.Info.Dimensions);

    /// <summary>Joins one vector per part (each unit length) into a unit vector.</summary>
    public static float[] Join(IReadOnlyList<float[]> partVectors)
    {
        var joined = new float[partVectors.Sum(v => v.Length)];
        var scale = 1f / MathF.Sqrt(partVectors.Count);
        var offset = 0;
        foreach (var vector in partVectors)
        {
            EmbeddingVectors.AddWeighted(joined.AsSpan(offset, vector.Length), vector, scale);
            offset += vector.Length;
        }

        // A part that returned a zero vector leaves the joined vector shorter than 1; renormalising keeps the contract.
        EmbeddingVectors.Normalize(joined);
        return joined;
    }

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

        // One part after the other: each local model already runs a batch on every core.
        var perPart = new float[_parts.Count][][];
        for (var p = 0; p < _parts.Count; p++)
        {
            perPart[p] = await _parts[p].EmbedDocumentsAsync(texts, cancellationToken);
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            var vector = Join([.. perPart.Select(part => part[i])]);
            result.Add(new Embedding<float>(vector) { ModelId = _modelName });
        }

        return result;
    }

    /// <summary>Embeds a search query with every part, each applying its own query prefix, and joins the vectors.</summary>
    public async Task<float[]> EmbedQueryAsync(string query, CancellationToken ct)
    {
        // A query is a few dozen word pieces: too little work to spread over the cores, so the parts run side by side.
        return Join(await Task.WhenAll(_parts.Select(p => p.EmbedQueryAsync(query, ct))));
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        GeneratorServices.Get(this, _metadata, serviceType, serviceKey);

    /// <summary>The parts are registered models in their own right; their owner disposes them.</summary>
    public void Dispose()
    {
    }
}
