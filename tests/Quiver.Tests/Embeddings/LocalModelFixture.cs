using Microsoft.Extensions.Logging.Abstractions;
using Quiver.Core.Embeddings;

namespace Quiver.Tests.Embeddings;

/// <summary>One instance of each real local model per test process: loading takes seconds.</summary>
internal static class LocalModelFixture
{
    private static readonly Lazy<(EmbeddingModel Model, OnnxEmbeddingGenerator Generator)> ArcticInstance = new(() => Create(LocalModels.ArcticXs));
    private static readonly Lazy<(EmbeddingModel Model, OnnxEmbeddingGenerator Generator)> MiniLmInstance = new(() => Create(LocalModels.MiniLmL6V2));

    public static (EmbeddingModel Model, OnnxEmbeddingGenerator Generator) Arctic => ArcticInstance.Value;

    public static (EmbeddingModel Model, OnnxEmbeddingGenerator Generator) MiniLm => MiniLmInstance.Value;

    public static float Cosine(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);

    /// <summary>About 75 word pieces on one topic; repeat it to exceed a window.</summary>
    public const string Astronomy =
        "The telescope observed a distant galaxy whose light had travelled for billions of years. Astronomers measured "
        + "its redshift to estimate how fast the universe is expanding, and compared the spectrum of its stars with "
        + "nearby clusters to learn how heavy elements formed after the first generation of stars exploded as supernovae. ";

    /// <summary>About 70 word pieces on an unrelated topic.</summary>
    public const string Baking =
        "To bake sourdough bread, feed the starter the night before, mix flour, water and salt into a shaggy dough, "
        + "fold it every half hour while it ferments, shape a tight loaf, proof it in the fridge overnight and bake "
        + "it in a very hot covered pot until the crust is dark and crackles as it cools. ";

    private static (EmbeddingModel, OnnxEmbeddingGenerator) Create(LocalModelSpec spec)
    {
        var generator = new OnnxEmbeddingGenerator(spec, () => 0, NullLogger<OnnxEmbeddingGenerator>.Instance);
        return (new EmbeddingModel(spec.Info, generator), generator);
    }
}
