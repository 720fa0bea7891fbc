using System.Net;
using System.Numerics.Tensors;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>The embeddings API and the default store model, on the real local ONNX model.</summary>
public sealed class EmbeddingsTests : IAsyncLifetime
{
    private readonly QuiverFactory _factory = new() { UseRealEmbeddings = true };

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task The_real_model_scores_paraphrases_above_unrelated_text(string prefix)
    {
        var client = _factory.CreateApiClient();
        var response = await client.PostJsonAsync($"{prefix}/embeddings", """
            {"model":"auto","input":[
              "How do I reset my password?",
              "Steps to change a forgotten login password",
              "The mitochondria is the powerhouse of the cell"]}
            """);
        Assert.Equal("list", (string?)response["object"]);
        Assert.Equal("local:snowflake-arctic-embed-xs", (string?)response["model"]);
        Assert.True((long)response["usage"]!["prompt_tokens"]! > 10);
        var vectors = response["data"]!.AsArray().Select(d => d!["embedding"]!.AsArray().Select(x => (float)x!).ToArray()).ToArray();
        Assert.All(vectors, v => Assert.Equal(384, v.Length));
        Assert.All(vectors, v => Assert.InRange(TensorPrimitives.Norm(v), 0.999f, 1.001f));

        var paraphrase = TensorPrimitives.Dot(vectors[0], vectors[1]);
        var unrelated = TensorPrimitives.Dot(vectors[0], vectors[2]);
        Assert.True(paraphrase > unrelated + 0.1f, $"paraphrase {paraphrase} vs unrelated {unrelated}");
    }

    [Fact]
    public async Task Models_are_listed_and_auto_stores_use_the_default_local_model()
    {
        var client = _factory.CreateApiClient();
        var models = await client.GetJsonAsync("/api/v1/llm/embeddings/models");
        var ids = models["data"]!.AsArray().Select(m => (string)m!["id"]!).ToList();
        Assert.Equal(["local:snowflake-arctic-embed-xs", "local:all-minilm-l6-v2", "local:arctic-embed-xs+all-minilm-l6-v2"], ids);
        Assert.Equal(512, (int)models["data"]![0]!["limits"]!["max_input_tokens"]!);

        var store = await client.CreateStoreAsync("/api/v1/llm", """{"embedding_model":"auto"}""");
        Assert.Equal("local:snowflake-arctic-embed-xs", (string?)store["embedding_model"]);
        Assert.Equal(384, (int)store["embedding_dimensions"]!);
        var minilm = await client.CreateStoreAsync("/api/v1/llm", """{"embedding_model":"local:all-minilm-l6-v2"}""");
        Assert.Equal("local:all-minilm-l6-v2", (string?)minilm["embedding_model"]);
        var ensemble = await client.CreateStoreAsync("/api/v1/llm", """{"embedding_model":"local:arctic-embed-xs+all-minilm-l6-v2"}""");
        Assert.Equal(768, (int)ensemble["embedding_dimensions"]!);
    }

    [Fact]
    public async Task Base64_output_and_bad_requests()
    {
        var client = _factory.CreateApiClient();
        var response = await client.PostJsonAsync("/v1/embeddings", """{"model":"local:all-minilm-l6-v2","input":"hello","encoding_format":"base64"}""");
        var bytes = Convert.FromBase64String((string)response["data"]![0]!["embedding"]!);
        Assert.Equal(384 * 4, bytes.Length);

        foreach (var (json, param) in new[]
        {
            ("""{"model":"nope:x","input":"a"}""", "model"),
            ("""{"model":"auto"}""", "input"),
            ("""{"model":"auto","input":[]}""", "input"),
            ("""{"model":"auto","input":""}""", "input"),
            ("""{"model":"auto","input":"a","dimensions":12}""", "dimensions"),
            ("""{"model":"auto","input":"a","dimensions":"384"}""", "dimensions"),
            ("""{"model":"auto","input":"a","encoding_format":"int8"}""", "encoding_format"),
        })
        {
            using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
            using var bad = await client.PostAsync("/v1/embeddings", content, Ct);
            await bad.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", param);
        }
    }

    [Fact]
    public async Task A_real_file_is_ingested_with_the_local_model()
    {
        var client = _factory.CreateApiClient();
        var fileId = (string)(await client.UploadAsync("/v1", "a.txt", "Quiver stores documents and finds them again."))["id"]!;
        var storeId = (string)(await client.CreateStoreAsync("/v1", "{\"file_ids\":[\"" + fileId + "\"]}"))["id"]!;
        var file = await client.WaitForFileAsync("/v1", storeId, fileId, timeoutSeconds: 120);
        Assert.Equal("completed", (string?)file["status"]);
        Assert.Equal("""{"type":"static","static":{"max_chunk_size_tokens":400,"chunk_overlap_tokens":100}}""", file["chunking_strategy"]!.ToJsonString());
        Assert.True((long)file["usage_bytes"]! >= 384 * 4);
    }
}
