using System.Collections.Concurrent;
using System.Diagnostics;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>
/// Spans: an attach request's trace continues into the background job (extract, chunk, embed, publish),
/// and a search's legs are children of its request, all under the caller's <c>traceparent</c>.
/// </summary>
[Collection(ProcessWideTelemetryCollection.Name)]
public sealed class TracingTests(QuiverFactory factory) : IClassFixture<QuiverFactory>, IDisposable
{
    private readonly ConcurrentBag<Activity> _stopped = [];
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name is "Quiver" or "Microsoft.AspNetCore",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private void Listen()
    {
        _listener.ActivityStopped = activity => _stopped.Add(activity);
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task An_attach_trace_continues_into_its_job_and_a_search_trace_holds_its_legs()
    {
        Listen();
        var client = factory.CreateApiClient(onBehalfOf: "tracing-" + Guid.NewGuid().ToString("N"));
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var fileId = (string)(await client.UploadAsync("/v1", "trace.md", "Spans follow the file from attach to publish."))["id"]!;
        var attachTrace = ActivityTraceId.CreateRandom();
        using (var attach = new HttpRequestMessage(HttpMethod.Post, $"/v1/vector_stores/{storeId}/files"))
        {
            attach.Content = new StringContent($$"""{"file_id":"{{fileId}}"}""", System.Text.Encoding.UTF8, "application/json");
            attach.Headers.Add("traceparent", $"00-{attachTrace}-{ActivitySpanId.CreateRandom()}-01");
            using var response = await client.SendAsync(attach, Ct);
            response.EnsureSuccessStatusCode();
        }

        Assert.Equal("completed", (string?)(await client.WaitForFileAsync("/v1", storeId, fileId))["status"]);
        var job = await WaitForSpanAsync("ingest.file", attachTrace);
        Assert.Equal(fileId, job.GetTagItem("quiver.file.id"));
        Assert.Equal("completed", job.GetTagItem("quiver.outcome"));
        foreach (var stage in new[] { "ingest.extract", "ingest.chunk", "ingest.embed", "ingest.publish" })
        {
            Assert.Equal(job.SpanId, (await WaitForSpanAsync(stage, attachTrace)).ParentSpanId);
        }

        var searchTrace = ActivityTraceId.CreateRandom();
        using (var search = new HttpRequestMessage(HttpMethod.Post, $"/v1/vector_stores/{storeId}/search"))
        {
            search.Content = new StringContent("""{"query":"spans from attach to publish"}""", System.Text.Encoding.UTF8, "application/json");
            search.Headers.Add("traceparent", $"00-{searchTrace}-{ActivitySpanId.CreateRandom()}-01");
            using var response = await client.SendAsync(search, Ct);
            response.EnsureSuccessStatusCode();
        }

        var searchSpan = await WaitForSpanAsync("search", searchTrace);
        Assert.Equal(storeId, searchSpan.GetTagItem("quiver.vector_store.id"));
        foreach (var leg in new[] { "search.embed", "search.dense", "search.lexical", "search.fetch" })
        {
            Assert.Equal(searchTrace, (await WaitForSpanAsync(leg, searchTrace)).TraceId);
        }
    }

    private async Task<Activity> WaitForSpanAsync(string name, ActivityTraceId trace)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_stopped.FirstOrDefault(a => a.OperationName == name && a.TraceId == trace) is { } span)
            {
                return span;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no span '{name}' in trace {trace}");
            await Task.Delay(50, Ct);
        }
    }
}
