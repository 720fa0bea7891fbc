namespace Quiver.Core.Embeddings;

/// <summary>How a local model's token vectors become one sentence vector.</summary>
internal enum LocalPooling
{
    /// <summary>The [CLS] token's hidden state.</summary>
    Cls,

    /// <summary>The mean of the hidden states weighted by the attention mask.</summary>
    Mean,
}
