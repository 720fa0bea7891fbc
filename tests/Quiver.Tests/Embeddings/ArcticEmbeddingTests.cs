using Quiver.Core.Embeddings;

namespace Quiver.Tests.Embeddings;

public sealed class ArcticEmbeddingTests : LocalEmbeddingModelTests
{
    private protected override (EmbeddingModel Model, OnnxEmbeddingGenerator Generator) Subject => LocalModelFixture.Arctic;

    [Fact]
    public async Task Query_prefix_is_applied_to_queries_only()
    {
        var ct = TestContext.Current.CancellationToken;
        var model = Subject.Model;
        const string text = "what is the speed of light?";

        var query = await model.EmbedQueryAsync(text, ct);
        var docs = await model.EmbedDocumentsAsync([text, LocalModels.ArcticQueryPrefix + text], ct);

        Assert.Equal(LocalModels.ArcticQueryPrefix, model.Info.QueryPrefix);
        Assert.True(LocalModelFixture.Cosine(query, docs[1]) > 0.9999f);
        Assert.True(LocalModelFixture.Cosine(query, docs[0]) < 0.99f);
    }

    [Fact]
    public void Info_describes_the_model()
    {
        var info = Subject.Model.Info;

        Assert.Equal(("local:snowflake-arctic-embed-xs", 384, 512), (info.Id, info.Dimensions, info.MaxInputTokens));
    }
}
