namespace Quiver.Core.Search;

/// <summary>
/// Weights of the dense and lexical parts of a hybrid score (<c>embedding_weight</c>/<c>text_weight</c>).
/// Both ≥ 0 with a positive sum; only their ratio matters because fusion divides by the sum.
/// </summary>
internal readonly record struct HybridWeights(double Embedding, double Text)
{
    /// <summary>Equal weights.</summary>
    public static HybridWeights Default { get; } = new(1.0, 1.0);
}
