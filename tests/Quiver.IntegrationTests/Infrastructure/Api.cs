using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quiver.IntegrationTests.Infrastructure;

/// <summary>HTTP helpers for the tests: uploads, JSON bodies and error assertions.</summary>
public static class Api
{
    /// <summary>Both dialects' route prefixes, for theories that run every route in both.</summary>
    public static TheoryData<string> Prefixes => new("/v1", "/api/v1/llm");

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static MultipartFormDataContent FileForm(string filename, byte[] content, string? purpose = "assistants")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", filename);
        if (purpose is not null)
        {
            form.Add(new StringContent(purpose), "purpose");
        }

        return form;
    }

    /// <summary>A form whose file name goes out as an RFC 5987 <c>filename*</c>, for names HttpClient would refuse to encode.</summary>
    public static MultipartFormDataContent RawNameFileForm(string filename, byte[] content, string purpose = "assistants")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"file\"; filename*=UTF-8''{Uri.EscapeDataString(filename)}");
        form.Add(file);
        form.Add(new StringContent(purpose), "purpose");
        return form;
    }

    public static async Task<JsonObject> UploadAsync(this HttpClient client, string prefix, string filename, string text, string purpose = "assistants")
    {
        using var response = await client.PostAsync($"{prefix}/files", FileForm(filename, Encoding.UTF8.GetBytes(text), purpose), Ct);
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    public static async Task<JsonObject> ReadJsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    public static async Task<JsonObject> GetJsonAsync(this HttpClient client, string url, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.GetAsync(url, Ct);
        return await response.ReadJsonAsync(expected);
    }

    public static async Task<JsonObject> PostJsonAsync(this HttpClient client, string url, string json, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(url, content, Ct);
        return await response.ReadJsonAsync(expected);
    }

    /// <summary>Asserts the OpenAI error envelope: all four keys, the expected status, type, param and code.</summary>
    public static async Task<JsonObject> AssertErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string type, string? param, string? code = "*")
    {
        var json = await response.ReadJsonAsync(status);
        var error = json["error"]!.AsObject();
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        Assert.Equal(type, (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        if (code != "*")
        {
            Assert.Equal(code, (string?)error["code"]);
        }

        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        return json;
    }

    public static string[] Ids(this JsonObject list) =>
        [.. list["data"]!.AsArray().Select(item => (string)item!["id"]!)];

    public static JsonElement Element(this JsonObject json) => JsonSerializer.Deserialize<JsonElement>(json.ToJsonString());
}
