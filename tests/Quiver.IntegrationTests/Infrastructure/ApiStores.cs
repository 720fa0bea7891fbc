using System.Text.Json.Nodes;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Infrastructure;

/// <summary>HTTP helpers for vector stores, files and batches.</summary>
public static class ApiStores
{
    public static async Task<JsonObject> CreateStoreAsync(this HttpClient client, string prefix, string json = "{}") =>
        await client.PostJsonAsync($"{prefix}/vector_stores", json);

    public static async Task<JsonObject> AttachAsync(this HttpClient client, string prefix, string storeId, string fileId, string extra = "") =>
        await client.PostJsonAsync($"{prefix}/vector_stores/{storeId}/files", "{\"file_id\":\"" + fileId + "\"" + extra + "}");

    /// <summary>Polls a vector store file until it leaves <c>in_progress</c> (never a fixed sleep).</summary>
    public static async Task<JsonObject> WaitForFileAsync(this HttpClient client, string prefix, string storeId, string fileId, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var file = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}/files/{fileId}");
            if ((string?)file["status"] != "in_progress")
            {
                return file;
            }

            Assert.True(DateTime.UtcNow < deadline, $"File {fileId} still in_progress after {timeoutSeconds}s.");
            await Task.Delay(25, Ct);
        }
    }

    /// <summary>Polls a batch until it leaves <c>in_progress</c>.</summary>
    public static async Task<JsonObject> WaitForBatchAsync(this HttpClient client, string prefix, string storeId, string batchId, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var batch = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}/file_batches/{batchId}");
            if ((string?)batch["status"] != "in_progress")
            {
                return batch;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Batch {batchId} still in_progress after {timeoutSeconds}s.");
            await Task.Delay(25, Ct);
        }
    }

    public static long Count(this JsonObject obj, string status) => (long)obj["file_counts"]![status]!;
}
