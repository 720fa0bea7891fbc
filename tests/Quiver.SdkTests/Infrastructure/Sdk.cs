using System.ClientModel;
using System.Text.Json;
using OpenAI.Files;
using OpenAI.VectorStores;

namespace Quiver.SdkTests.Infrastructure;

/// <summary>Small helpers over the OpenAI SDK calls the tests repeat.</summary>
internal static class Sdk
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<OpenAIFile> UploadTextAsync(this OpenAIFileClient files, string filename, string text) =>
        (await files.UploadFileAsync(BinaryData.FromString(text), filename, FileUploadPurpose.Assistants)).Value;

    /// <summary>
    /// Polls a batch with the SDK's own <c>GetVectorStoreFileBatchAsync</c> until it leaves
    /// <c>in_progress</c>, waiting as long as the server's <c>openai-poll-after-ms</c> asks
    /// (OpenAI 2.15.0 has no built-in batch poller; this is what its removed operation did).
    /// </summary>
    public static async Task<VectorStoreFileBatch> WaitForBatchAsync(this VectorStoreClient client, string storeId, string batchId, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var result = await client.GetVectorStoreFileBatchAsync(storeId, batchId, Ct);
            if (result.Value.Status != VectorStoreFileBatchStatus.InProgress)
            {
                return result.Value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Batch {batchId} still in_progress after {timeoutSeconds}s.");
            await Task.Delay(PollDelay(result), Ct);
        }
    }

    /// <summary>Polls a vector store file with <c>GetVectorStoreFileAsync</c> until it leaves <c>in_progress</c>.</summary>
    public static async Task<VectorStoreFile> WaitForFileAsync(this VectorStoreClient client, string storeId, string fileId, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var result = await client.GetVectorStoreFileAsync(storeId, fileId, Ct);
            if (result.Value.Status != VectorStoreFileStatus.InProgress)
            {
                return result.Value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"File {fileId} still in_progress after {timeoutSeconds}s.");
            await Task.Delay(PollDelay(result), Ct);
        }
    }

    /// <summary>The server's <c>openai-poll-after-ms</c> hint (capped for test speed), 50 ms without one.</summary>
    private static TimeSpan PollDelay(ClientResult result) =>
        result.GetRawResponse().Headers.TryGetValue("openai-poll-after-ms", out var value) && int.TryParse(value, out var ms)
            ? TimeSpan.FromMilliseconds(Math.Clamp(ms, 10, 200))
            : TimeSpan.FromMilliseconds(50);

    public static JsonElement Json(this ClientResult result) =>
        JsonDocument.Parse(result.GetRawResponse().Content.ToMemory()).RootElement.Clone();

    public static BinaryContent JsonBody(object body) => BinaryContent.Create(BinaryData.FromObjectAsJson(body));

    public static async Task<List<T>> ToListAsync<T>(this AsyncCollectionResult<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
