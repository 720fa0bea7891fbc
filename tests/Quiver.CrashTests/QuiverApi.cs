using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Quiver.CrashTests;

/// <summary>The HTTP calls the crash loop makes, as thin wrappers over <c>/v1</c> returning parsed JSON.</summary>
internal sealed class QuiverApi(HttpClient http, ServerProcess server)
{
    public HttpClient Http => http;

    private Uri Url(string path) => new(server.BaseAddress, path);

    /// <summary>Sends a request; returns the status and parsed body (null when the body is not JSON).</summary>
    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, Url(path));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request, ct);
        return ((int)response.StatusCode, await ParseAsync(response, ct));
    }

    /// <summary>Like <see cref="SendAsync"/> but anything other than 2xx throws.</summary>
    public async Task<JsonNode> RequireAsync(HttpMethod method, string path, JsonNode? body = null, CancellationToken ct = default)
    {
        var (status, json) = await SendAsync(method, path, body, ct);
        return status is >= 200 and < 300 && json is not null
            ? json
            : throw new InvalidOperationException($"{method} {path} answered {status}: {json?.ToJsonString()}");
    }

    /// <summary><c>POST /v1/files</c> with a text/plain file; returns status and body.</summary>
    public async Task<(int Status, JsonNode? Body)> UploadAsync(string filename, byte[] content, CancellationToken ct = default)
    {
        using var form = new MultipartFormDataContent { { new StringContent("assistants"), "purpose" } };
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(file, "file", filename);
        using var response = await http.PostAsync(Url("/v1/files"), form, ct);
        return ((int)response.StatusCode, await ParseAsync(response, ct));
    }

    /// <summary>Every item of a cursor-paged list (<c>limit=100</c>, <c>after</c>).</summary>
    public async Task<List<JsonObject>> ListAllAsync(string path, CancellationToken ct = default)
    {
        var items = new List<JsonObject>();
        string? after = null;
        while (true)
        {
            var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            var page = await RequireAsync(HttpMethod.Get, $"{path}{separator}limit=100&order=asc" + (after is null ? "" : $"&after={after}"), ct: ct);
            var data = page["data"]!.AsArray().Select(n => n!.AsObject()).ToList();
            items.AddRange(data);
            if (!(bool)page["has_more"]! || data.Count == 0)
            {
                return items;
            }

            after = (string)data[^1]["id"]!;
        }
    }

    private static async Task<JsonNode?> ParseAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}
