using System.Globalization;
using System.Text.RegularExpressions;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>
/// <c>/metrics</c> after real traffic: the Prometheus series of docs/observability.md exist with their labels,
/// and they move when more traffic comes (the counts are process-wide, so only increases are asserted).
/// Runs alone: OpenTelemetry's listener is process-wide, so another test host's ASP.NET Core meter maps onto the
/// same metric stream, and when that host is disposed its instrument's completion retires the shared stream
/// (the route's series vanished from the scrape mid-test in CI).
/// </summary>
[Collection(ProcessWideTelemetryCollection.Name)]
public sealed partial class MetricsTests(QuiverFactory factory) : IClassFixture<QuiverFactory>
{
    [Fact]
    public async Task Metrics_show_requests_by_route_ingestion_embedding_and_search_legs_and_they_move()
    {
        var client = factory.CreateApiClient(onBehalfOf: "metrics-" + Guid.NewGuid().ToString("N"));
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var fileId = (string)(await client.UploadAsync("/v1", "lighthouse.md", "The lighthouse keeper logs every passing ship."))["id"]!;
        await client.AttachAsync("/v1", storeId, fileId);
        Assert.Equal("completed", (string?)(await client.WaitForFileAsync("/v1", storeId, fileId))["status"]);
        var broken = (string)(await client.UploadAsync("/v1", "broken.pdf", "this is not a PDF"))["id"]!;
        await client.AttachAsync("/v1", storeId, broken);
        Assert.Equal("failed", (string?)(await client.WaitForFileAsync("/v1", storeId, broken))["status"]);
        await client.PostJsonAsync($"/v1/vector_stores/{storeId}/search", """{"query":"lighthouse ship"}""");

        using var anonymous = factory.CreateClient();
        var searchRoute = """http_route="/v1/vector_stores/{vector_store_id}/search""";
        // A request's duration is recorded as the server finishes it, which can be just after the client has
        // its answer, and the exporter caches a scrape briefly: scrape until the traffic shows.
        // Likewise a file's outcome is counted just after its status is committed (which is what the test waited for).
        var first = await ScrapeUntilAsync(anonymous, text =>
            Count(text, "http_server_request_duration_seconds_count", searchRoute) >= 1
            && Count(text, "quiver_ingestion_files_total", """outcome="completed""") >= 1
            && Count(text, "quiver_ingestion_files_total", """outcome="failed""") >= 1
            && Count(text, "quiver_ingestion_file_duration_seconds_count", """outcome="completed""") >= 1);
        var before = Value(first, "http_server_request_duration_seconds_count", searchRoute, """http_response_status_code="200""");
        Assert.True(before >= 1, first);
        foreach (var leg in new[] { "embed", "dense", "lexical", "fusion", "fetch", "total" })
        {
            Assert.True(Value(first, "quiver_search_duration_seconds_count", $"""leg="{leg}""") >= 1, $"search leg {leg}");
        }

        Assert.True(Value(first, "quiver_ingestion_files_total", """outcome="completed""") >= 1);
        Assert.True(Value(first, "quiver_ingestion_files_total", """outcome="failed""") >= 1);
        Assert.True(Value(first, "quiver_ingestion_chunks_total") >= 1);
        Assert.True(Value(first, "quiver_ingestion_extraction_failures_total") >= 1);
        Assert.True(Value(first, "quiver_ingestion_file_duration_seconds_count", """outcome="completed""") >= 1);
        Assert.True(Value(first, "quiver_embedding_duration_seconds_count", """purpose="document""") >= 1);
        Assert.True(Value(first, "quiver_embedding_duration_seconds_count", """purpose="query""") >= 1);
        Assert.True(Value(first, "quiver_embedding_batch_size_count", """purpose="document""") >= 1);
        Assert.Matches(@"quiver_ingestion_queue_depth\{[^}]*state=""queued""", first);
        Assert.Contains("dotnet_gc_collections_total", first);

        var embedBefore = Value(first, "quiver_search_duration_seconds_count", """leg="embed""");
        await client.PostJsonAsync($"/v1/vector_stores/{storeId}/search", """{"query":"keeper"}""");
        await client.PostJsonAsync($"/v1/vector_stores/{storeId}/search", """{"query":"ship"}""");
        var second = await ScrapeUntilAsync(anonymous, text => Count(text, "http_server_request_duration_seconds_count", searchRoute) >= before + 2);

        Assert.True(Value(second, "http_server_request_duration_seconds_count", searchRoute, """http_response_status_code="200""") >= before + 2);
        Assert.True(Value(second, "quiver_search_duration_seconds_count", """leg="embed""") >= embedBefore + 2);
    }

    [Fact]
    public async Task Metrics_need_no_key_and_answer_prometheus_text()
    {
        using var anonymous = factory.CreateClient();
        using var response = await anonymous.GetAsync("/metrics", Ct);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
    }

    private static async Task<string> ScrapeUntilAsync(HttpClient client, Func<string, bool> shows)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var text = await client.GetStringAsync("/metrics", Ct);
            if (shows(text) || DateTime.UtcNow > deadline)
            {
                return text;
            }

            await Task.Delay(100, Ct);
        }
    }

    /// <summary>Like <see cref="Value"/>, 0 when there is no such sample yet.</summary>
    private static double Count(string exposition, string metric, params string[] labels) =>
        Sample().Matches(exposition).Where(m => m.Groups["name"].Value == metric && labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    /// <summary>The sum of the samples of <paramref name="metric"/> whose labels contain every one of <paramref name="labels"/>.</summary>
    private static double Value(string exposition, string metric, params string[] labels)
    {
        var total = 0.0;
        var found = false;
        foreach (Match sample in Sample().Matches(exposition))
        {
            if (sample.Groups["name"].Value == metric && labels.All(l => sample.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            {
                total += double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
                found = true;
            }
        }

        Assert.True(found, $"no sample of {metric} with {string.Join(", ", labels)}");
        return total;
    }

    // Label values are quoted and may hold braces (route templates): a label set ends at the first unquoted '}'.
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>(?:[^""}]|""(?:[^""\\]|\\.)*"")*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}

/// <summary>Tests that read process-wide telemetry run after the parallel tests, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTelemetryCollection
{
    public const string Name = "process-wide-telemetry";
}
