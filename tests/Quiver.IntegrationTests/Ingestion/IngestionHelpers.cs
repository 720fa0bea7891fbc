using System.Net;
using System.Text.Json.Nodes;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Ingestion;

/// <summary>Shared steps of the ingestion tests.</summary>
internal static class IngestionHelpers
{
    public static HttpClient NewUser(this QuiverFactory factory) =>
        factory.CreateApiClient(onBehalfOf: "user-" + Guid.NewGuid().ToString("N"));

    public static async Task<string> UploadBytesAsync(this HttpClient client, string filename, byte[] content, string prefix = "/v1")
    {
        using var response = await client.PostAsync($"{prefix}/files", FileForm(filename, content), Ct);
        return (string)(await response.ReadJsonAsync(HttpStatusCode.OK))["id"]!;
    }

    /// <summary>The parsed text of a store file, read through either dialect's content endpoint.</summary>
    public static async Task<string> ParsedTextAsync(this HttpClient client, string prefix, string storeId, string fileId)
    {
        var content = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}/files/{fileId}/content");
        var parts = prefix == "/v1" ? content["data"]!.AsArray() : content["content"]!.AsArray();
        return string.Concat(parts.Select(p => (string)p!["text"]!));
    }

    /// <summary>Polls a store until no file is in progress.</summary>
    public static async Task<JsonObject> WaitForStoreAsync(this HttpClient client, string prefix, string storeId, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var store = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}");
            if (store.Count("in_progress") == 0)
            {
                return store;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Store {storeId} still has files in progress after {timeoutSeconds}s: {store["file_counts"]!.ToJsonString()}");
            await Task.Delay(25, Ct);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until true (never a fixed sleep).</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for: {what}");
            await Task.Delay(10, Ct);
        }
    }

    /// <summary>Every id of a store-file listing (following pages), optionally with a status filter.</summary>
    public static async Task<List<JsonObject>> ListAllFilesAsync(this HttpClient client, string prefix, string storeId, string? filter = null)
    {
        var all = new List<JsonObject>();
        string? after = null;
        while (true)
        {
            var url = $"{prefix}/vector_stores/{storeId}/files?limit=100&order=asc"
                + (filter is null ? "" : "&filter=" + filter) + (after is null ? "" : "&after=" + after);
            var page = await client.GetJsonAsync(url);
            all.AddRange(page["data"]!.AsArray().Select(f => f!.AsObject()));
            if (!(bool)page["has_more"]!)
            {
                return all;
            }

            after = (string)page["last_id"]!;
        }
    }
}
