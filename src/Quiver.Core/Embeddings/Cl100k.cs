using Microsoft.ML.Tokenizers;

namespace Quiver.Core.Embeddings;

/// <summary>The cl100k_base tokenizer (OpenAI embedding models' encoding), created once on first use.</summary>
internal static class Cl100k
{
    private static readonly Lazy<TiktokenTokenizer> Instance = new(
        () => TiktokenTokenizer.CreateForEncoding("cl100k_base"),
        LazyThreadSafetyMode.ExecutionAndPublication);

    public static TiktokenTokenizer Tokenizer => Instance.Value;
}
