using Quiver.Core.Embeddings;

namespace Quiver.Tests.Embeddings;

public sealed class MiniLmEmbeddingTests : LocalEmbeddingModelTests
{
    private protected override (EmbeddingModel Model, OnnxEmbeddingGenerator Generator) Subject => LocalModelFixture.MiniLm;

    [Fact]
    public async Task Queries_take_no_prefix()
    {
        var ct = TestContext.Current.CancellationToken;
        var query = await Subject.Model.EmbedQueryAsync("speed of light", ct);
        var doc = await Subject.Model.EmbedDocumentsAsync(["speed of light"], ct);

        Assert.Null(Subject.Model.Info.QueryPrefix);
        Assert.True(LocalModelFixture.Cosine(query, doc[0]) > 0.9999f);
    }

    [Fact]
    public void Info_describes_the_model()
    {
        var info = Subject.Model.Info;

        Assert.Equal(("local:all-minilm-l6-v2", 384, 256), (info.Id, info.Dimensions, info.MaxInputTokens));
    }
}
