using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Quiver.Client;

/// <summary>A deserialized answer plus the server's polling hint.</summary>
internal readonly record struct ApiResult<T>(T Value, TimeSpan? PollAfter);

/// <summary>Builds MKA1-dialect requests (auth, on-behalf-of, idempotency) and turns error answers into <see cref="QuiverApiException"/>.</summary>
internal sealed class QuiverTransport
{
    public const string Prefix = "api/v1/llm/";
    public const string PollAfterHeader = "openai-poll-after-ms";
    private const int MaxErrorBodyChars = 8192;

    private readonly HttpClient _http;
    private readonly QuiverClientOptions _options;
    private readonly string _root;

    public QuiverTransport(HttpClient http, QuiverClientOptions options)
    {
        _http = http;
        _options = options;
        var baseAddress = options.BaseAddress ?? http.BaseAddress
            ?? throw new ArgumentException("Set QuiverClientOptions.BaseAddress or HttpClient.BaseAddress.", nameof(options));
        if (!baseAddress.IsAbsoluteUri)
        {
            throw new ArgumentException("The base address must be an absolute URI.", nameof(options));
        }

        _root = baseAddress.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + Prefix;
    }

    public PollOptions DefaultPolling => _options.Polling;

    public static string Escape(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return Uri.EscapeDataString(id);
    }

    public static HttpContent Json<T>(T value, JsonTypeInfo<T> typeInfo) => JsonContent.Create(value, typeInfo);

    public static HttpContent RawJson(string json) => new StringContent(json, Encoding.UTF8, "application/json");

    public async Task<ApiResult<T>> SendAsync<T>(
        HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> typeInfo, RequestOptions? options, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, content, options, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var value = await JsonSerializer.DeserializeAsync(stream, typeInfo, cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException($"The server answered {method} {path} with a null body.");
            return new ApiResult<T>(value, PollAfter(response));
        }
    }

    /// <summary>Sends a request and returns the successful response (caller disposes); throws <see cref="QuiverApiException"/> otherwise.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(
        HttpMethod method, string path, HttpContent? content, RequestOptions? options, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(_root + path, UriKind.Absolute)) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_options.ApiKey is { Length: > 0 } key)
        {
            var token = key.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? key["Bearer ".Length..].Trim() : key;
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (options?.OmitOnBehalfOf != true && (options?.OnBehalfOf ?? _options.OnBehalfOf) is { Length: > 0 } user)
        {
            request.Headers.TryAddWithoutValidation("X-On-Behalf-Of", user);
        }

        if (method == HttpMethod.Post && options?.IdempotencyKey is { Length: > 0 } idempotencyKey)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        var response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    private static TimeSpan? PollAfter(HttpResponseMessage response) =>
        response.Headers.TryGetValues(PollAfterHeader, out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
        && ms is >= 0 and <= 600_000
            ? TimeSpan.FromMilliseconds(ms)
            : null;

    internal static async Task<QuiverApiException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            body = "";
        }

        if (body.Length > MaxErrorBodyChars)
        {
            body = body[..MaxErrorBodyChars];
        }

        string? message = null, type = null, code = null, param = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.Object)
                {
                    message = Text(error, "message");
                    type = Text(error, "type");
                    code = Text(error, "code");
                    param = Text(error, "param");
                }
                else if (error.ValueKind == JsonValueKind.String)
                {
                    message = error.GetString(); // gateway shape: {"error":"Rate limit exceeded"}
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML or text page): the status and the raw body are all there is.
        }

        var status = response.StatusCode;
        message ??= $"HTTP {(int)status} {response.ReasonPhrase}{(string.IsNullOrWhiteSpace(body) ? "" : ": " + Truncate(body.Trim(), 300))}";
        return new QuiverApiException(status, message, type, code, param, body)
        {
            RetryAfter = status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                ? response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null)
                : null,
        };
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => value.GetRawText(),
        } : null;

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";

    /// <summary>Appends <c>?a=b&amp;…</c> for the non-null pairs.</summary>
    public static string Query(string path, params ReadOnlySpan<(string Name, string? Value)> pairs)
    {
        var sb = new StringBuilder(path);
        var first = true;
        foreach (var (name, value) in pairs)
        {
            if (value is null)
            {
                continue;
            }

            sb.Append(first ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            first = false;
        }

        return sb.ToString();
    }

    public static string? Order(ListOrder? order) => order switch
    {
        ListOrder.Asc => "asc",
        ListOrder.Desc => "desc",
        _ => null,
    };

    public static string? Int(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    /// <summary>Polls until <paramref name="status"/> is terminal, waiting as the server asks (or <see cref="PollOptions.Interval"/>).</summary>
    public async Task<T> PollAsync<T>(
        Func<CancellationToken, Task<ApiResult<T>>> get, Func<T, string> status, string what, PollOptions? poll, CancellationToken cancellationToken)
    {
        poll ??= _options.Polling;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (poll.Timeout is { } timeout)
        {
            deadline.CancelAfter(timeout);
        }

        string? last = null;
        try
        {
            while (true)
            {
                var result = await get(deadline.Token).ConfigureAwait(false);
                last = status(result.Value);
                if (VectorStoreFileStatus.IsTerminal(last))
                {
                    return result.Value;
                }

                await Task.Delay(result.PollAfter ?? poll.Interval, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{what} did not reach a terminal status within {poll.Timeout} (last status: {last ?? "unknown"}).");
        }
    }
}
