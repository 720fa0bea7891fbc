using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Quiver.Core.Embeddings;

namespace Quiver.Tests.Embeddings;

public sealed class OpenAIEmbeddingGeneratorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeEmbeddingsHandler _handler;

    public OpenAIEmbeddingGeneratorTests() => _handler = new FakeEmbeddingsHandler(_time);

    private EmbeddingModel CreateModel(Action<RemoteEmbeddingOptions>? configure = null)
    {
        var options = new RemoteEmbeddingOptions
        {
            Id = "openai:fake-embed",
            BaseUrl = "https://embed.example/v1/",
            ApiKey = "sk-test",
            Dimensions = 3,
        };
        configure?.Invoke(options);
        var generator = new OpenAIEmbeddingGenerator(options, new HttpClient(_handler), _time, NullLogger<OpenAIEmbeddingGenerator>.Instance);
        return new EmbeddingModel(options.ToModelInfo(), generator);
    }

    /// <summary>Runs <paramref name="action"/> while moving the fake clock forward, so retries never sleep.</summary>
    private async Task<T> WithClockAsync<T>(Func<Task<T>> action)
    {
        var task = action();
        for (var i = 0; i < 10_000 && !task.IsCompleted; i++)
        {
            await Task.Delay(1, TestContext.Current.CancellationToken);
            _time.Advance(TimeSpan.FromMilliseconds(250));
        }

        return await task;
    }

    private static string[] Inputs(int count) => Enumerable.Range(0, count).Select(i => $"t{i}").ToArray();

    [Fact]
    public async Task Sends_model_inputs_float_format_and_bearer_key()
    {
        var model = CreateModel();

        await model.EmbedDocumentsAsync(["t1", "t2"], TestContext.Current.CancellationToken);

        var request = Assert.Single(_handler.Requests);
        Assert.Equal("https://embed.example/v1/embeddings", request.Uri.ToString());
        Assert.Equal("Bearer sk-test", request.Authorization);
        Assert.Equal("fake-embed", request.Body["model"]!.GetValue<string>());
        Assert.Equal("float", request.Body["encoding_format"]!.GetValue<string>());
        Assert.Equal(["t1", "t2"], request.Inputs);
    }

    [Fact]
    public async Task Batches_by_count_and_preserves_order()
    {
        var model = CreateModel(o => o.MaxBatchSize = 2);

        var vectors = await model.EmbedDocumentsAsync(Inputs(5), TestContext.Current.CancellationToken);

        Assert.Equal([2, 2, 1], _handler.Requests.Select(r => r.Inputs.Count));
        Assert.Equal(Inputs(5), _handler.Requests.SelectMany(r => r.Inputs));
        Assert.Equal([0, 1, 2, 3, 4], vectors.Select(FakeEmbeddingsHandler.Decode));
        Assert.All(vectors, v => Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(v), 4));
    }

    [Fact]
    public async Task Batches_by_tokens()
    {
        string[] texts = [.. Enumerable.Range(0, 6).Select(i => $"t{i} " + string.Join(' ', Enumerable.Repeat("word", 20)))];
        var tokens = texts.Select(t => Cl100k.Tokenizer.CountTokens(t)).ToArray();
        var limit = tokens.Max() * 2;
        var model = CreateModel(o =>
        {
            o.MaxBatchTokens = limit;
            o.MaxInputTokens = limit;
        });

        var vectors = await model.EmbedDocumentsAsync(texts, TestContext.Current.CancellationToken);

        Assert.True(_handler.Requests.Count >= 3);
        Assert.All(_handler.Requests, r => Assert.True(r.Inputs.Sum(i => Cl100k.Tokenizer.CountTokens(i)) <= limit));
        Assert.Equal(texts, _handler.Requests.SelectMany(r => r.Inputs));
        Assert.Equal(6, vectors.Length);
    }

    [Fact]
    public async Task Long_input_is_windowed_and_pooled()
    {
        var model = CreateModel(o => o.MaxInputTokens = 10);
        var longText = string.Join(' ', Enumerable.Repeat("alpha", 35));

        var vectors = await model.EmbedDocumentsAsync(["t7", longText], TestContext.Current.CancellationToken);

        var sent = _handler.Requests.SelectMany(r => r.Inputs).ToList();
        Assert.True(sent.Count >= 5);
        Assert.All(sent, s => Assert.True(Cl100k.Tokenizer.CountTokens(s) <= 10));
        Assert.Equal(longText, string.Concat(sent.Skip(1)));
        Assert.Equal(7, FakeEmbeddingsHandler.Decode(vectors[0]));
        Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(vectors[1]), 4);
    }

    [Fact]
    public async Task Retries_429_after_retry_after_seconds()
    {
        _handler.Respond = (n, inputs) => n == 1
            ? WithRetryAfter(FakeEmbeddingsHandler.Error(HttpStatusCode.TooManyRequests, "slow down"), TimeSpan.FromSeconds(7))
            : FakeEmbeddingsHandler.Ok(inputs);
        var model = CreateModel();

        var vectors = await WithClockAsync(() => model.EmbedDocumentsAsync(["t3"], TestContext.Current.CancellationToken));

        Assert.Equal(3, FakeEmbeddingsHandler.Decode(vectors[0]));
        Assert.Equal(2, _handler.Requests.Count);
        var waited = _handler.Requests[1].At - _handler.Requests[0].At;
        Assert.InRange(waited, TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task Retries_503_honouring_retry_after_date()
    {
        _handler.Respond = (n, inputs) =>
        {
            if (n > 1)
            {
                return FakeEmbeddingsHandler.Ok(inputs);
            }

            var response = FakeEmbeddingsHandler.Error(HttpStatusCode.ServiceUnavailable, "overloaded");
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(_time.GetUtcNow().AddSeconds(20));
            return response;
        };
        var model = CreateModel();

        await WithClockAsync(() => model.EmbedDocumentsAsync(["t1"], TestContext.Current.CancellationToken));

        var waited = _handler.Requests[1].At - _handler.Requests[0].At;
        Assert.InRange(waited, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(21));
    }

    [Fact]
    public async Task Gives_up_after_max_attempts_with_a_transient_error()
    {
        _handler.Respond = (_, _) => FakeEmbeddingsHandler.Error(HttpStatusCode.InternalServerError, "boom");
        var model = CreateModel(o => o.MaxAttempts = 3);

        var ex = await Assert.ThrowsAsync<EmbeddingException>(
            () => WithClockAsync(() => model.EmbedDocumentsAsync(["t1"], TestContext.Current.CancellationToken)));

        Assert.True(ex.IsTransient);
        Assert.Equal(500, ex.StatusCode);
        Assert.Equal(3, _handler.Requests.Count);
        // Backoff without Retry-After: 0.5–1 s, then 1–2 s.
        var first = _handler.Requests[1].At - _handler.Requests[0].At;
        var second = _handler.Requests[2].At - _handler.Requests[1].At;
        Assert.InRange(first, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1250));
        Assert.InRange(second, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(2250));
    }

    [Fact]
    public async Task Timeout_is_retried()
    {
        _handler.Respond = (n, inputs) => n == 1 ? throw new TaskCanceledException("timed out") : FakeEmbeddingsHandler.Ok(inputs);
        var model = CreateModel();

        var vectors = await WithClockAsync(() => model.EmbedDocumentsAsync(["t4"], TestContext.Current.CancellationToken));

        Assert.Equal(4, FakeEmbeddingsHandler.Decode(vectors[0]));
        Assert.Equal(2, _handler.Requests.Count);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.NotFound)]
    public async Task Client_errors_fail_permanently_without_retry(HttpStatusCode status)
    {
        _handler.Respond = (_, _) => FakeEmbeddingsHandler.Error(status, "nope");
        var model = CreateModel();

        var ex = await Assert.ThrowsAsync<EmbeddingException>(() => model.EmbedDocumentsAsync(["t1"], TestContext.Current.CancellationToken));

        Assert.False(ex.IsTransient);
        Assert.Equal((int)status, ex.StatusCode);
        Assert.Contains("nope", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-test", ex.Message, StringComparison.Ordinal);
        Assert.Single(_handler.Requests);
    }

    [Fact]
    public async Task Dimension_mismatch_fails_permanently()
    {
        _handler.Respond = (_, inputs) => FakeEmbeddingsHandler.Ok(inputs, dimensions: 5);
        var model = CreateModel();

        var ex = await Assert.ThrowsAsync<EmbeddingException>(() => model.EmbedDocumentsAsync(["t1"], TestContext.Current.CancellationToken));

        Assert.False(ex.IsTransient);
        Assert.Contains("5 dimensions", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_response_fails_permanently()
    {
        _handler.Respond = (_, _) => FakeEmbeddingsHandler.Json(HttpStatusCode.OK, new { data = new[] { new { index = 0 } } });
        var model = CreateModel();

        var ex = await Assert.ThrowsAsync<EmbeddingException>(() => model.EmbedDocumentsAsync(["t1", "t2"], TestContext.Current.CancellationToken));

        Assert.False(ex.IsTransient);
        Assert.Contains("malformed", ex.Message, StringComparison.Ordinal);
    }

    private static HttpResponseMessage WithRetryAfter(HttpResponseMessage response, TimeSpan delay)
    {
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
        return response;
    }
}
