using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Quiver.Core.Ingestion;
using Quiver.IntegrationTests.Infrastructure;
using Quiver.IntegrationTests.Ingestion;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary><c>/metrics</c> on the embedded backend: its storage series are Quiver's SQLite connection and writer-lock instruments.</summary>
[Collection(ProcessWideTelemetryCollection.Name)]
public sealed class MetricsTests(QuiverFactory factory) : MetricsContract<QuiverFactory>(factory)
{
    protected override void AssertStorageSeries(string exposition)
    {
        Assert.True(Prometheus.Value(exposition, "quiver_storage_connections_open", """backend="sqlite""") >= 0);
        Assert.True(Prometheus.Value(exposition, "quiver_storage_write_waiting", """backend="sqlite""") >= 0);
        Assert.True(Prometheus.Value(exposition, "quiver_storage_write_wait_duration_seconds_count", """backend="sqlite""") >= 1);
        Assert.True(Prometheus.Value(exposition, "quiver_storage_write_wait_duration_seconds_bucket", """backend="sqlite""", """le="+Inf""") >= 1);
    }

    protected override double StorageActivity(string exposition) =>
        Prometheus.Value(exposition, "quiver_storage_write_wait_duration_seconds_count", """backend="sqlite""");
}

/// <summary><c>/metrics</c> on PostgreSQL: its storage series are Npgsql's pool instruments (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
[Collection(ProcessWideTelemetryCollection.Name)]
public sealed class MetricsPostgresTests : MetricsContract<PostgresQuiverFactory>
{
    public MetricsPostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();

    protected override void AssertStorageSeries(string exposition)
    {
        // Npgsql's pool: connections by state and the pool's maximum, per data source (db_client_connection_pool_name).
        // Its pending-requests and timeouts series appear only once a request has had to wait for a connection.
        Assert.True(Prometheus.Value(exposition, "db_client_connection_count", """db_client_connection_state="idle""") >= 0);
        Assert.True(Prometheus.Value(exposition, "db_client_connection_count", """db_client_connection_state="used""") >= 0);
        Assert.True(Prometheus.Value(exposition, "db_client_connection_count") >= 1);
        Assert.True(Prometheus.Value(exposition, "db_client_connection_max") >= 1);
        Assert.True(Prometheus.Value(exposition, "db_client_connection_npgsql_create_time_seconds_count") >= 1);
    }

    protected override double StorageActivity(string exposition) =>
        Prometheus.Value(exposition, "db_client_operation_duration_seconds_count");
}

/// <summary>
/// <c>/metrics</c> after real traffic: the Prometheus series of docs/observability.md exist with their labels,
/// and they move when more traffic comes (the counts are process-wide, so only increases are asserted), run
/// against each storage backend.
/// Runs alone: OpenTelemetry's listener is process-wide, so another test host's ASP.NET Core meter maps onto the
/// same metric stream, and when that host is disposed its instrument's completion retires the shared stream
/// (the route's series vanished from the scrape mid-test in CI).
/// </summary>
public abstract class MetricsContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    /// <summary>Asserts the backend's storage pool series exist with their labels.</summary>
    protected abstract void AssertStorageSeries(string exposition);

    /// <summary>A storage count that grows with every database write (asserted to move).</summary>
    protected abstract double StorageActivity(string exposition);

    [Fact]
    public async Task Metrics_show_requests_by_route_ingestion_embedding_storage_and_search_legs_and_they_move()
    {
        var client = factory.CreateApiClient(onBehalfOf: "metrics-" + Guid.NewGuid().ToString("N"));
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var fileId = (string)(await client.UploadAsync("/v1", "lighthouse.md", "The lighthouse keeper logs every passing ship."))["id"]!;
        await client.AttachAsync("/v1", storeId, fileId);
        Assert.Equal("completed", (string?)(await client.WaitForFileAsync("/v1", storeId, fileId))["status"]);
        var broken = (string)(await client.UploadAsync("/v1", "broken.pdf", "this is not a PDF"))["id"]!;
        await client.AttachAsync("/v1", storeId, broken);
        var failed = await client.WaitForFileAsync("/v1", storeId, broken);
        Assert.Equal("failed", (string?)failed["status"]);
        // The failure's kind is the extractor's code, the one the file reports.
        Assert.Equal("invalid_file", (string?)failed["last_error"]!["code"]);
        await client.PostJsonAsync($"/v1/vector_stores/{storeId}/search", """{"query":"lighthouse ship"}""");

        using var anonymous = factory.CreateClient();
        var searchRoute = """http_route="/v1/vector_stores/{vector_store_id}/search""";
        // A request's duration is recorded as the server finishes it, which can be just after the client has
        // its answer, and the exporter caches a scrape briefly: scrape until the traffic shows.
        // Likewise a file's outcome is counted just after its status is committed (which is what the test waited for).
        var first = await ScrapeUntilAsync(anonymous, text =>
            Prometheus.Count(text, "http_server_request_duration_seconds_count", searchRoute) >= 1
            && Prometheus.Count(text, "quiver_ingestion_files_total", """outcome="completed""") >= 1
            && Prometheus.Count(text, "quiver_ingestion_files_total", """outcome="failed""") >= 1
            && Prometheus.Count(text, "quiver_ingestion_file_duration_seconds_count", """outcome="completed""") >= 1);
        var before = Prometheus.Value(first, "http_server_request_duration_seconds_count", searchRoute, """http_response_status_code="200""");
        Assert.True(before >= 1, first);
        foreach (var leg in new[] { "embed", "dense", "lexical", "fusion", "fetch", "total" })
        {
            Assert.True(Prometheus.Value(first, "quiver_search_duration_seconds_count", $"""leg="{leg}""") >= 1, $"search leg {leg}");
        }

        Assert.True(Prometheus.Value(first, "quiver_ingestion_files_total", """outcome="completed""") >= 1);
        Assert.True(Prometheus.Value(first, "quiver_ingestion_files_total", """outcome="failed""") >= 1);
        Assert.True(Prometheus.Value(first, "quiver_ingestion_chunks_total") >= 1);
        Assert.True(Prometheus.Value(first, "quiver_ingestion_extraction_failures_total", """kind="invalid_file""") >= 1);
        Assert.True(Prometheus.Value(first, "quiver_ingestion_file_duration_seconds_count", """outcome="completed""") >= 1);
        Assert.True(Prometheus.Value(first, "quiver_embedding_duration_seconds_count", """purpose="document""") >= 1);
        Assert.True(Prometheus.Value(first, "quiver_embedding_duration_seconds_count", """purpose="query""") >= 1);
        Assert.True(Prometheus.Value(first, "quiver_embedding_batch_size_count", """purpose="document""") >= 1);
        Assert.Matches(@"quiver_ingestion_queue_depth\{[^}]*state=""queued""", first);
        Assert.Contains("dotnet_gc_collections_total", first);
        AssertStorageSeries(first);
        var storageBefore = StorageActivity(first);

        // A batch held in the embedder: its jobs run (two workers) and wait (the third file), so the queue depth
        // shows them (sampled every 10 s); cancelling the batch stops the running ones (cancel-to-idle).
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var signals = factory.Services.GetRequiredService<IngestionSignals>();
        factory.Embedder.Gate = gate;
        try
        {
            var callsBefore = factory.Embedder.Calls;
            var held = new List<string>();
            foreach (var name in new[] { "held-1.md", "held-2.md", "held-3.md" })
            {
                held.Add((string)(await client.UploadAsync("/v1", name, $"Held file {name} about tides and harbours."))["id"]!);
            }

            var batchId = (string)(await client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches",
                "{\"file_ids\":[" + string.Join(",", held.Select(id => $"\"{id}\"")) + "]}"))["id"]!;
            await IngestionHelpers.EventuallyAsync(() => factory.Embedder.Calls > callsBefore, "a held job to reach the embedder");
            var busy = await ScrapeUntilAsync(anonymous, text =>
                Prometheus.Count(text, "quiver_ingestion_queue_depth", """state="running""") >= 1
                && Prometheus.Count(text, "quiver_ingestion_queue_depth", """state="queued""") >= 1);
            Assert.True(Prometheus.Value(busy, "quiver_ingestion_queue_depth", """state="running""") >= 1, busy);
            Assert.True(Prometheus.Value(busy, "quiver_ingestion_queue_depth", """state="queued""") >= 1, busy);

            await client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}/cancel", "");
            await IngestionHelpers.EventuallyAsync(() => signals.RunningCount == 0, "the cancelled jobs to stop");
        }
        finally
        {
            factory.Embedder.Gate = null;
            gate.TrySetResult();
        }

        var idle = await ScrapeUntilAsync(anonymous, text =>
            Prometheus.Count(text, "quiver_ingestion_cancel_to_idle_seconds_count") >= 1
            && Prometheus.Count(text, "quiver_ingestion_queue_depth", """state="running""") == 0
            && Prometheus.Count(text, "quiver_ingestion_queue_depth", """state="queued""") == 0);
        Assert.True(Prometheus.Value(idle, "quiver_ingestion_cancel_to_idle_seconds_count") >= 1, idle);
        Assert.True(Prometheus.Value(idle, "quiver_ingestion_cancel_to_idle_seconds_bucket", """le="+Inf""") >= 1);
        Assert.True(Prometheus.Value(idle, "quiver_ingestion_files_total", """outcome="fenced""") >= 1);
        Assert.Equal(0, Prometheus.Value(idle, "quiver_ingestion_queue_depth", """state="running"""));
        Assert.Equal(0, Prometheus.Value(idle, "quiver_ingestion_queue_depth", """state="queued"""));

        var embedBefore = Prometheus.Value(idle, "quiver_search_duration_seconds_count", """leg="embed""");
        await client.PostJsonAsync($"/v1/vector_stores/{storeId}/search", """{"query":"keeper"}""");
        await client.PostJsonAsync($"/v1/vector_stores/{storeId}/search", """{"query":"ship"}""");
        var second = await ScrapeUntilAsync(anonymous, text => Prometheus.Count(text, "http_server_request_duration_seconds_count", searchRoute) >= before + 2);

        Assert.True(Prometheus.Value(second, "http_server_request_duration_seconds_count", searchRoute, """http_response_status_code="200""") >= before + 2);
        Assert.True(Prometheus.Value(second, "quiver_search_duration_seconds_count", """leg="embed""") >= embedBefore + 2);
        AssertStorageSeries(second);
        Assert.True(StorageActivity(second) > storageBefore, $"storage activity {StorageActivity(second)} after {storageBefore}");
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
}

/// <summary>Reads samples out of Prometheus text exposition.</summary>
internal static partial class Prometheus
{
    /// <summary>Like <see cref="Value"/>, 0 when there is no such sample yet.</summary>
    public static double Count(string exposition, string metric, params string[] labels) =>
        Sample().Matches(exposition).Where(m => m.Groups["name"].Value == metric && labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    /// <summary>The sum of the samples of <paramref name="metric"/> whose labels contain every one of <paramref name="labels"/>.</summary>
    public static double Value(string exposition, string metric, params string[] labels)
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
