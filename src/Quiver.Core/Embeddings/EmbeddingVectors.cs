using System.Numerics.Tensors;

namespace Quiver.Core.Embeddings;

/// <summary>Vector arithmetic shared by the embedders: normalisation and window pooling.</summary>
internal static class EmbeddingVectors
{
    /// <summary>Scales <paramref name="vector"/> to unit length in place; a zero vector stays zero.</summary>
    public static void Normalize(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0f && float.IsFinite(norm))
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }
    }

    /// <summary>Adds <paramref name="weight"/> × <paramref name="vector"/> to <paramref name="sum"/>.</summary>
    public static void AddWeighted(Span<float> sum, ReadOnlySpan<float> vector, float weight)
        => TensorPrimitives.MultiplyAdd(vector, weight, sum, sum);
}
