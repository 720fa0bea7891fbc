using System.Reflection;

namespace Quiver.Core.Embeddings;

/// <summary>A local ONNX model: its registry info, where its weights and vocabulary live and how it pools.</summary>
/// <param name="Info">Registry info; <see cref="EmbeddingModelInfo.MaxInputTokens"/> is the window in word pieces, [CLS] and [SEP] included.</param>
/// <param name="ResourceAssembly">Assembly holding <c>{name}.Resources.model.onnx</c> and <c>{name}.Resources.vocab.txt</c>.</param>
/// <param name="Pooling">How token vectors become the sentence vector.</param>
internal sealed record LocalModelSpec(EmbeddingModelInfo Info, Assembly ResourceAssembly, LocalPooling Pooling)
{
    public string ModelResourceName => ResourceAssembly.GetName().Name + ".Resources.model.onnx";

    public string VocabularyResourceName => ResourceAssembly.GetName().Name + ".Resources.vocab.txt";
}
