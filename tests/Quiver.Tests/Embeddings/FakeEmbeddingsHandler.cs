using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quiver.Tests.Embeddings;

/// <summary>
/// Stands in for an OpenAI-compatible <c>/embeddings</c> endpoint. Each request is recorded with the
/// fake clock's time; <see cref="Respond"/> decides the reply (default: a 3-dimensional vector
/// <c>[k, 1, 0]</c> for input <c>"t{k}"</c>, returned in reverse order to check index handling).
/// </summary>
internal sealed class FakeEmbeddingsHandler(TimeProvider time) : HttpMessageHandler
{
    public List<RecordedRequest> Requests { get; } = [];

    public Func<int, IReadOnlyList<string>, HttpResponseMessage> Respond { get; set; } = (_, inputs) => Ok(inputs);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = await request.Content!.ReadAsStringAsync(cancellationToken);
        var json = JsonNode.Parse(body)!;
        var inputs = json["input"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        lock (Requests)
        {
            Requests.Add(new RecordedRequest(time.GetUtcNow(), request.RequestUri!, request.Headers.Authorization?.ToString(), json, inputs));
            return Respond(Requests.Count, inputs);
        }
    }

    public static HttpResponseMessage Ok(IReadOnlyList<string> inputs, int dimensions = 3)
    {
        var data = inputs
            .Select((text, i) => new { index = i, embedding = Vector(text, dimensions), @object = "embedding" })
            .Reverse()
            .ToArray();
        return Json(HttpStatusCode.OK, new { @object = "list", data, usage = new { prompt_tokens = 1, total_tokens = 1 } });
    }

    public static HttpResponseMessage Json(HttpStatusCode status, object payload)
        => new(status) { Content = new StringContent(JsonSerializer.Serialize(payload), Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Error(HttpStatusCode status, string message)
        => Json(status, new { error = new { message, type = "invalid_request_error" } });

    /// <summary><c>"t{k}"</c> → <c>[k, 1, 0, …]</c>; anything else → <c>[length, 1, 0, …]</c>.</summary>
    public static float[] Vector(string text, int dimensions = 3)
    {
        var v = new float[dimensions];
        v[0] = text.StartsWith('t') && int.TryParse(text.AsSpan(1), out var k) ? k : text.Length;
        v[1] = 1;
        return v;
    }

    /// <summary>Recovers k from a normalised <c>[k, 1, 0]</c>.</summary>
    public static int Decode(float[] normalized) => (int)MathF.Round(normalized[0] / normalized[1]);
}

internal sealed record RecordedRequest(DateTimeOffset At, Uri Uri, string? Authorization, JsonNode Body, IReadOnlyList<string> Inputs);
