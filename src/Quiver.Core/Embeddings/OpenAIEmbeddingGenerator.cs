using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Quiver.Core.Embeddings;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over an OpenAI-compatible
/// <c>POST {BaseUrl}/embeddings</c>. Inputs are windowed to <see cref="RemoteEmbeddingOptions.MaxInputTokens"/>
/// (cl100k_base), batched by count and by tokens, and sent one batch at a time. Transient failures
/// (429, 408, 5xx, timeouts, network errors) are retried with exponential backoff and full jitter,
/// honouring <c>Retry-After</c>; every wait goes through the injected <see cref="TimeProvider"/>.
/// Anything else throws a permanent <see cref="EmbeddingException"/>.
/// </summary>
internal sealed class OpenAIEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly RemoteEmbeddingOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger<OpenAIEmbeddingGenerator> _logger;
    private readonly Uri _endpoint;
    private readonly string _model;
    private readonly int _dimensions;
    private readonly EmbeddingGeneratorMetadata _metadata;

    public OpenAIEmbeddingGenerator(RemoteEmbeddingOptions options, HttpClient http, TimeProvider time, ILogger<OpenAIEmbeddingGenerator> logger)
    {
        _options = options;
        _http = http;
        _time = time;
        _logger = logger;
        _endpoint = new Uri(options.BaseUrl.TrimEnd('/') + "/embeddings");
        _model = options.ResolvedModel;
        _dimensions = options.ResolvedDimensions
            ?? throw new ArgumentException($"Remote embedding model '{options.Id}' needs Dimensions.", nameof(options));
        _metadata = new EmbeddingGeneratorMetadata("openai", new Uri(options.BaseUrl), _model, _dimensions);
    }

    /// <inheritdoc/>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        var pieces = Split(texts);
        var pieceVectors = new float[pieces.Count][];
        long totalTokens = 0;

        var start = 0;
        while (start < pieces.Count)
        {
            var end = start;
            var batchTokens = 0;
            while (end < pieces.Count
                && end - start < _options.MaxBatchSize
                && (end == start || batchTokens + pieces[end].Tokens <= _options.MaxBatchTokens))
            {
                batchTokens += pieces[end].Tokens;
                end++;
            }

            var batch = pieces.GetRange(start, end - start);
            var started = Stopwatch.GetTimestamp();
            var vectors = await EmbedBatchAsync(batch, cancellationToken);
            EmbeddingLog.RemoteBatchDone(_logger, _options.Id, batch.Count, batchTokens, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            vectors.CopyTo(pieceVectors, start);
            totalTokens += batchTokens;
            start = end;
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count)
        {
            Usage = new UsageDetails { InputTokenCount = totalTokens, TotalTokenCount = totalTokens },
        };
        var p = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            float[] vector;
            if (p + 1 == pieces.Count || pieces[p + 1].TextIndex != i)
            {
                vector = pieceVectors[p++];
            }
            else
            {
                // Token-weighted mean of the windows, so a short tail counts for less than a full window.
                vector = new float[_dimensions];
                for (; p < pieces.Count && pieces[p].TextIndex == i; p++)
                {
                    EmbeddingVectors.AddWeighted(vector, pieceVectors[p], pieces[p].Tokens);
                }
            }

            EmbeddingVectors.Normalize(vector);
            result.Add(new Embedding<float>(vector) { ModelId = _model });
        }

        return result;
    }

    /// <summary>Splits texts into pieces of at most MaxInputTokens cl100k tokens, in order.</summary>
    private List<Piece> Split(IReadOnlyList<string> texts)
    {
        var tokenizer = Cl100k.Tokenizer;
        var pieces = new List<Piece>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            // OpenAI rejects empty strings with a 400 that would fail the whole batch.
            var text = string.IsNullOrEmpty(texts[i]) ? " " : texts[i];
            var pos = 0;
            while (pos < text.Length)
            {
                var rest = text.AsSpan(pos);
                var length = tokenizer.GetIndexByTokenCount(rest, _options.MaxInputTokens, out _, out var tokens);
                if (length <= 0)
                {
                    length = rest.Length;
                    tokens = tokenizer.CountTokens(rest);
                }

                pieces.Add(new Piece(i, pos == 0 && length == text.Length ? text : text.Substring(pos, length), Math.Max(tokens, 1)));
                pos += length;
            }
        }

        return pieces;
    }

    private async Task<float[][]> EmbedBatchAsync(List<Piece> batch, CancellationToken ct)
    {
        var body = BuildRequestBody(batch);
        for (var attempt = 1; ; attempt++)
        {
            string reason;
            TimeSpan? retryAfter = null;
            int? status = null;
            Exception? failure = null;

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_options.TimeoutSeconds), _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                if (!string.IsNullOrEmpty(_options.ApiKey))
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
                }

                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
                var payload = await response.Content.ReadAsByteArrayAsync(linked.Token);
                if (response.IsSuccessStatusCode)
                {
                    return ParseResponse(payload, batch.Count);
                }

                status = (int)response.StatusCode;
                reason = $"HTTP {status}: {ErrorMessage(payload)}";
                if (!IsTransientStatus(response.StatusCode))
                {
                    throw new EmbeddingException(
                        $"Embedding model '{_options.Id}' at {_endpoint} rejected the request with {reason}. Check the model name, API key and inputs in Quiver:Embeddings:Remote.",
                        isTransient: false)
                    { StatusCode = status };
                }

                retryAfter = RetryAfter(response.Headers.RetryAfter);
            }
            catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
            {
                reason = $"no response within {_options.TimeoutSeconds} s";
                failure = ex;
            }
            catch (HttpRequestException ex)
            {
                reason = ex.Message;
                failure = ex;
            }

            if (attempt >= _options.MaxAttempts)
            {
                throw new EmbeddingException(
                    $"Embedding model '{_options.Id}' at {_endpoint} failed {attempt} times; last: {reason}.",
                    isTransient: true,
                    failure)
                { StatusCode = status };
            }

            var delay = retryAfter ?? Backoff(attempt);
            EmbeddingLog.RemoteRetry(_logger, _options.Id, attempt, _options.MaxAttempts, reason, delay.TotalMilliseconds);
            await Task.Delay(delay, _time, ct);
        }
    }

    private byte[] BuildRequestBody(List<Piece> batch)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", _model);
            writer.WriteStartArray("input");
            foreach (var piece in batch)
            {
                writer.WriteStringValue(piece.Text);
            }

            writer.WriteEndArray();
            writer.WriteString("encoding_format", "float");
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads <c>data[].embedding</c> back into input order; any surprise is a permanent error.</summary>
    private float[][] ParseResponse(byte[] payload, int expected)
    {
        var vectors = new float[expected][];
        try
        {
            using var document = JsonDocument.Parse(payload);
            var data = document.RootElement.GetProperty("data");
            var position = 0;
            foreach (var item in data.EnumerateArray())
            {
                var index = item.TryGetProperty("index", out var indexElement) ? indexElement.GetInt32() : position;
                position++;
                if (index < 0 || index >= expected || vectors[index] is not null)
                {
                    throw Malformed($"index {index} is out of range or repeated");
                }

                var embedding = item.GetProperty("embedding");
                var vector = embedding.ValueKind == JsonValueKind.String
                    ? MemoryMarshal.Cast<byte, float>(embedding.GetBytesFromBase64()).ToArray()
                    : embedding.EnumerateArray().Select(e => e.GetSingle()).ToArray();
                if (vector.Length != _dimensions)
                {
                    throw new EmbeddingException(
                        $"Embedding model '{_options.Id}' returned {vector.Length} dimensions but is configured with {_dimensions}; fix Quiver:Embeddings:Remote Dimensions for this model.",
                        isTransient: false);
                }

                vectors[index] = vector;
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Malformed(ex.Message, ex);
        }

        var missing = Array.FindIndex(vectors, v => v is null);
        if (missing >= 0)
        {
            throw Malformed($"{vectors.Count(v => v is null)} of {expected} embeddings are missing (first: index {missing})");
        }

        return vectors;
    }

    private EmbeddingException Malformed(string detail, Exception? inner = null)
        => new($"Embedding model '{_options.Id}' at {_endpoint} returned a malformed response: {detail}.", isTransient: false, inner);

    private static bool IsTransientStatus(HttpStatusCode status)
        => status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)status >= 500;

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        var delay = header?.Delta ?? (header?.Date is { } date ? date - _time.GetUtcNow() : null);
        if (delay is not { } value)
        {
            return null;
        }

        return value < TimeSpan.Zero ? TimeSpan.Zero : value > EmbeddingDefaults.RetryAfterMax ? EmbeddingDefaults.RetryAfterMax : value;
    }

    /// <summary>Full jitter: uniform in [0, min(max, base × 2^(attempt-1))], so retrying clients spread out.</summary>
    private static TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(
            EmbeddingDefaults.RetryMaxDelay.TotalMilliseconds,
            EmbeddingDefaults.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }

    /// <summary>The provider's <c>error.message</c>, or the start of the body; never echoes request content.</summary>
    private static string ErrorMessage(byte[] payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            if (document.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString() ?? "";
                }

                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message))
                {
                    return message.GetString() ?? "";
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to the raw text.
        }

        var text = System.Text.Encoding.UTF8.GetString(payload, 0, Math.Min(payload.Length, 300));
        return string.IsNullOrWhiteSpace(text) ? "(empty body)" : text;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        GeneratorServices.Get(this, _metadata, serviceType, serviceKey);

    /// <inheritdoc/>
    public void Dispose()
    {
        // The HttpClient belongs to IHttpClientFactory.
    }

    private readonly record struct Piece(int TextIndex, string Text, int Tokens);
}
