using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Quiver.Server.Cli;

/// <summary>
/// The HTTP client of the <c>ingest</c> and <c>search</c> verbs: a running Quiver's OpenAI dialect (<c>/v1</c>),
/// with the key and on-behalf-of user of the command line. Non-2xx answers become <see cref="ServerError"/>
/// carrying the server's own error message.
/// </summary>
internal sealed class ServerClient(HttpClient http) : IDisposable
{
    internal static readonly Option<string?> Server = new("--server")
    {
        HelpName = "URL",
        Description = $"The Quiver server. Default {QuiverCli.DefaultUrls}; env QUIVER_URL.",
    };

    internal static readonly Option<string?> Key = new("--key")
    {
        HelpName = "KEY",
        Description = "API key. Default: env QUIVER_API_KEY (preferred: keeps the key out of the process list).",
    };

    internal static readonly Option<string?> OnBehalfOf = new("--on-behalf-of")
    {
        HelpName = "USER",
        Description = "End user to act for (X-On-Behalf-Of). Default: none; env QUIVER_ON_BEHALF_OF.",
    };

    public static void AddOptions(Command command)
    {
        command.Options.Add(Server);
        command.Options.Add(Key);
        command.Options.Add(OnBehalfOf);
    }

    /// <summary>A client for the parsed options, or null (with the usage error printed) when no key is available or the server is no http(s) URL.</summary>
    public static ServerClient? Create(ParseResult parsed)
    {
        var key = parsed.GetValue(Key) ?? Environment.GetEnvironmentVariable("QUIVER_API_KEY");
        if (string.IsNullOrEmpty(key))
        {
            QuiverCli.UsageError(parsed, "no API key: pass --key or set QUIVER_API_KEY.");
            return null;
        }

        var server = (parsed.GetValue(Server) ?? (Environment.GetEnvironmentVariable("QUIVER_URL") is { Length: > 0 } url ? url : QuiverCli.DefaultUrls)).TrimEnd('/');
        if (!Uri.TryCreate(server + "/", UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            QuiverCli.UsageError(parsed, $"--server must be an http(s) URL, got '{server}'.");
            return null;
        }

        var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var user = parsed.GetValue(OnBehalfOf) ?? Environment.GetEnvironmentVariable("QUIVER_ON_BEHALF_OF");
        if (!string.IsNullOrEmpty(user))
        {
            http.DefaultRequestHeaders.Add("X-On-Behalf-Of", user);
        }

        return new ServerClient(http);
    }

    public Uri BaseAddress => http.BaseAddress!;

    public Task<JsonNode> GetAsync(string path, CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path), ct);

    public Task<JsonNode> PostAsync(string path, JsonNode body, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") }, ct);

    public Task<JsonNode> DeleteAsync(string path, CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Delete, path), ct);

    public async Task<JsonNode> UploadAsync(string path, string filename, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        using var content = new MultipartFormDataContent
        {
            { new StringContent("assistants"), "purpose" },
        };
        var file = new StreamContent(stream);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(file, "file", filename);
        return await SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/files") { Content = content }, ct);
    }

    public async Task<byte[]> DownloadAsync(string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await ServerError.FromAsync(response, ct);
        }

        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    /// <summary>Every item of a list endpoint, following <c>after</c> cursors, <paramref name="pageSize"/> items a page.</summary>
    public async Task<List<JsonNode>> ListAllAsync(string path, CancellationToken ct, int pageSize = 100)
    {
        var items = new List<JsonNode>();
        string? after = null;
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        while (true)
        {
            var page = await GetAsync($"{path}{separator}limit={pageSize}{(after is null ? "" : "&after=" + Uri.EscapeDataString(after))}", ct);
            var data = page["data"]!.AsArray();
            items.AddRange(data.Where(d => d is not null)!);
            if (page["has_more"]?.GetValue<bool>() != true || data.Count == 0)
            {
                return items;
            }

            after = page["last_id"]?.GetValue<string>() ?? data[^1]!["id"]!.GetValue<string>();
        }
    }

    private async Task<JsonNode> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            using var response = await http.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw await ServerError.FromAsync(response, ct);
            }

            return JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) ?? new JsonObject();
        }
    }

    public void Dispose() => http.Dispose();
}

/// <summary>A non-2xx answer, with the server's error message (the OpenAI envelope's <c>error.message</c>).</summary>
internal sealed class ServerError(int status, string message, string? code = null) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>The envelope's <c>error.code</c>, when the server gave one.</summary>
    public string? Code { get; } = code;

    public static async Task<ServerError> FromAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        string? message = null;
        string? code = null;
        try
        {
            var error = JsonNode.Parse(body)?["error"];
            message = error?["message"]?.GetValue<string>();
            code = error?["code"] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
        }

        return new ServerError((int)response.StatusCode, message ?? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", code);
    }
}
