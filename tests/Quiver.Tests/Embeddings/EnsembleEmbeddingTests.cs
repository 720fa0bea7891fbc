using System.Numerics.Tensors;
using Quiver.Core.Embeddings;

namespace Quiver.Tests.Embeddings;

/// <summary>The built-in ensemble of arctic-embed-xs and MiniLM, over the real models.</summary>
public sealed class EnsembleEmbeddingTests
{
    private static readonly Lazy<EmbeddingModel> EnsembleInstance = new(
        () => EmbeddingModel.Concatenation(LocalModels.Ensemble, [LocalModelFixture.Arctic.Model, LocalModelFixture.MiniLm.Model]));

    private static EmbeddingModel Ensemble => EnsembleInstance.Value;

    [Fact]
    public void Info_describes_both_models_with_the_smaller_window()
    {
        var info = Ensemble.Info;

        Assert.Equal(("local:arctic-embed-xs+all-minilm-l6-v2", 768, 256), (info.Id, info.Dimensions, info.MaxInputTokens));
        Assert.Equal((200, 50), (info.AutoChunkTokens, info.AutoOverlapTokens));
        Assert.Null(info.QueryPrefix);
    }

    [Fact]
    public async Task A_document_vector_is_both_part_vectors_scaled_to_unit_length()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] texts = [LocalModelFixture.Baking, LocalModelFixture.Astronomy, ""];

        var joined = await Ensemble.EmbedDocumentsAsync(texts, ct);
        var arctic = await LocalModelFixture.Arctic.Model.EmbedDocumentsAsync(texts, ct);
        var miniLm = await LocalModelFixture.MiniLm.Model.EmbedDocumentsAsync(texts, ct);

        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(768, joined[i].Length);
            Assert.Equal(1f, TensorPrimitives.Norm(joined[i]), 4);
            Assert.True(LocalModelFixture.Cosine(joined[i][..384], arctic[i]) > 0.9999f);
            Assert.True(LocalModelFixture.Cosine(joined[i][384..], miniLm[i]) > 0.9999f);
            Assert.Equal(0.5f, joined[i][..384].Select(v => v * v).Sum(), 3);
        }
    }

    [Fact]
    public async Task Query_document_score_is_the_mean_of_the_two_models_scores_with_each_query_prefix()
    {
        var ct = TestContext.Current.CancellationToken;
        const string query = "how do I bake bread at home?";

        var score = await ScoreAsync(Ensemble, query, ct);
        var arctic = await ScoreAsync(LocalModelFixture.Arctic.Model, query, ct);
        var miniLm = await ScoreAsync(LocalModelFixture.MiniLm.Model, query, ct);

        Assert.Equal((arctic + miniLm) / 2, score, 4);
        Assert.NotEqual(arctic, miniLm, 3);
    }

    private static async Task<float> ScoreAsync(EmbeddingModel model, string query, CancellationToken ct)
    {
        var queryVector = await model.EmbedQueryAsync(query, ct);
        var documentVector = (await model.EmbedDocumentsAsync([LocalModelFixture.Baking], ct))[0];
        return TensorPrimitives.Dot(queryVector, documentVector);
    }

    [Fact]
    public void An_ensemble_must_declare_the_summed_dimensions_and_no_larger_window()
    {
        EmbeddingModel[] parts = [LocalModelFixture.Arctic.Model, LocalModelFixture.MiniLm.Model];

        Assert.Throws<ArgumentException>(() => EmbeddingModel.Concatenation(LocalModels.Ensemble with { Dimensions = 384 }, parts));
        Assert.Throws<ArgumentException>(() => EmbeddingModel.Concatenation(LocalModels.Ensemble with { MaxInputTokens = 512 }, parts));
    }
}
