using System.Collections.Concurrent;
using System.Diagnostics;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>
/// Spans: an attach request's trace continues into the background job (extract, chunk, embed, publish),
/// an upload sent with the attach's <c>traceparent</c> joins the same trace, and a search's legs are children
/// of its request, all under the caller's <c>traceparent</c>.
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

    [Fact]
    public async Task An_upload_and_an_attach_sent_with_one_traceparent_are_one_trace_with_the_job_and_its_stages()
    {
        Listen();
        var client = factory.CreateApiClient(onBehalfOf: "tracing-" + Guid.NewGuid().ToString("N"));
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var trace = ActivityTraceId.CreateRandom();
        var clientSpan = ActivitySpanId.CreateRandom();
        var traceparent = $"00-{trace}-{clientSpan}-01";

        string fileId;
        using (var upload = new HttpRequestMessage(HttpMethod.Post, "/v1/files"))
        {
            upload.Content = Api.FileForm("one-trace.md", "One trace from upload through attach to publish."u8.ToArray());
            upload.Headers.Add("traceparent", traceparent);
            using var response = await client.SendAsync(upload, Ct);
            fileId = (string)(await response.ReadJsonAsync(System.Net.HttpStatusCode.OK))["id"]!;
        }

        using (var attach = new HttpRequestMessage(HttpMethod.Post, $"/v1/vector_stores/{storeId}/files"))
        {
            attach.Content = new StringContent($$"""{"file_id":"{{fileId}}"}""", System.Text.Encoding.UTF8, "application/json");
            attach.Headers.Add("traceparent", traceparent);
            using var response = await client.SendAsync(attach, Ct);
            response.EnsureSuccessStatusCode();
        }

        Assert.Equal("completed", (string?)(await client.WaitForFileAsync("/v1", storeId, fileId))["status"]);
        // Both requests' server spans continue the client's span (ASP.NET Core honours the incoming traceparent). They
        // carry no route tags without OpenTelemetry's instrumentation; the upload answered before the attach was sent,
        // so it is the one that started first.
        var requests = await WaitForRequestSpansAsync(trace, 2);
        Assert.All(requests, r => Assert.Equal(clientSpan, r.ParentSpanId));
        var (uploadSpan, attachSpan) = (requests[0], requests[1]);
        Assert.Equal(trace, uploadSpan.TraceId);
        Assert.NotEqual(uploadSpan.SpanId, attachSpan.SpanId);

        // The job is the attach request's child, and its stages are the job's: one trace from upload to publish.
        var job = await WaitForSpanAsync("ingest.file", trace);
        Assert.Equal(fileId, job.GetTagItem("quiver.file.id"));
        Assert.Equal(attachSpan.SpanId, job.ParentSpanId);
        foreach (var stage in new[] { "ingest.extract", "ingest.chunk", "ingest.embed", "ingest.publish" })
        {
            Assert.Equal(job.SpanId, (await WaitForSpanAsync(stage, trace)).ParentSpanId);
        }
    }

    /// <summary>The ASP.NET Core server spans of <paramref name="trace"/> once there are <paramref name="count"/>, in the order they started.</summary>
    private async Task<List<Activity>> WaitForRequestSpansAsync(ActivityTraceId trace, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var requests = _stopped.Where(a => a.Source.Name == "Microsoft.AspNetCore" && a.TraceId == trace).OrderBy(a => a.StartTimeUtc).ToList();
            if (requests.Count >= count)
            {
                Assert.Equal(count, requests.Count);
                return requests;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{requests.Count} request spans in trace {trace}, not {count}");
            await Task.Delay(50, Ct);
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
