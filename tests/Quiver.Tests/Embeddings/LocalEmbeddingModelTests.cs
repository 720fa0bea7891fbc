using Quiver.Core.Embeddings;

namespace Quiver.Tests.Embeddings;

/// <summary>Behaviour shared by both real local models; each subclass picks one.</summary>
public abstract class LocalEmbeddingModelTests
{
    private protected abstract (EmbeddingModel Model, OnnxEmbeddingGenerator Generator) Subject { get; }

    private EmbeddingModel Model => Subject.Model;

    private static float Cosine(float[] a, float[] b) => LocalModelFixture.Cosine(a, b);

    [Fact]
    public async Task Vectors_are_unit_length_with_384_dimensions()
    {
        var vectors = await Model.EmbedDocumentsAsync(["hello world", "", "A much longer sentence about embeddings."], TestContext.Current.CancellationToken);

        Assert.Equal(3, vectors.Length);
        Assert.All(vectors, v =>
        {
            Assert.Equal(384, v.Length);
            Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(v), 3);
        });
    }

    [Fact]
    public async Task Paraphrase_scores_higher_than_unrelated_text()
    {
        var ct = TestContext.Current.CancellationToken;
        var vectors = await Model.EmbedDocumentsAsync(
            ["The cat sat on the mat.", "A kitten was sitting on the rug.", "Quarterly revenue grew by eight percent."], ct);

        Assert.True(Cosine(vectors[0], vectors[1]) > Cosine(vectors[0], vectors[2]) + 0.1f);
    }

    [Fact]
    public async Task Query_matches_relevant_passage_over_unrelated_one()
    {
        var ct = TestContext.Current.CancellationToken;
        var query = await Model.EmbedQueryAsync("how is bread made?", ct);
        var docs = await Model.EmbedDocumentsAsync([LocalModelFixture.Baking, LocalModelFixture.Astronomy], ct);

        Assert.True(Cosine(query, docs[0]) > Cosine(query, docs[1]));
    }

    [Fact]
    public async Task Batch_results_match_single_results_in_order()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] texts = ["short", LocalModelFixture.Baking, "a medium length sentence here", LocalModelFixture.Astronomy];
        var batch = await Model.EmbedDocumentsAsync(texts, ct);

        for (var i = 0; i < texts.Length; i++)
        {
            var single = await Model.EmbedDocumentsAsync([texts[i]], ct);
            Assert.True(Cosine(single[0], batch[i]) > 0.9999f, $"text {i} differs when batched (padding must not leak into pooling)");
        }
    }

    [Fact]
    public void Accents_tabs_and_line_breaks_are_tokenized_not_unknown()
    {
        var generator = Subject.Generator;
        var accented = generator.TokenIds("Café\tnaïve\r\nrésumé Zürich");
        var plain = generator.TokenIds("cafe naive resume zurich");

        Assert.DoesNotContain(100L, accented); // [UNK]
        Assert.Equal(plain, accented);
    }

    [Fact]
    public async Task Whitespace_and_accents_do_not_change_the_vector()
    {
        var vectors = await Model.EmbedDocumentsAsync(["Café\tnaïve\nrésumé", "cafe naive resume"], TestContext.Current.CancellationToken);

        Assert.True(Cosine(vectors[0], vectors[1]) > 0.9999f);
    }

    [Fact]
    public async Task Text_longer_than_the_window_is_pooled_not_truncated()
    {
        var ct = TestContext.Current.CancellationToken;
        var window = Model.Info.MaxInputTokens;
        var head = string.Concat(Enumerable.Repeat(LocalModelFixture.Astronomy, 10));
        var tail = string.Concat(Enumerable.Repeat(LocalModelFixture.Baking, 10));
        Assert.True(Subject.Generator.TokenIds(head).Length > window, "head alone must fill the first window");

        var vectors = await Model.EmbedDocumentsAsync([head + tail, head, tail], ct);
        var (full, headOnly, tailOnly) = (vectors[0], vectors[1], vectors[2]);

        // Truncation would make full ≈ the first window of head; pooling pulls it towards the tail.
        Assert.True(Cosine(full, headOnly) < 0.98f);
        Assert.True(Cosine(full, tailOnly) > Cosine(headOnly, tailOnly) + 0.1f);
        Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(full), 3);
    }

    [Fact]
    public async Task Concurrent_calls_return_the_same_vectors()
    {
        var ct = TestContext.Current.CancellationToken;
        var expected = await Model.EmbedDocumentsAsync([LocalModelFixture.Baking], ct);
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Model.EmbedDocumentsAsync([LocalModelFixture.Baking], ct)));

        Assert.All(results, r => Assert.True(Cosine(expected[0], r[0]) > 0.9999f));
    }
}
