using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Npgsql;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>
/// Two real Quiver server processes on one PostgreSQL database (file bytes in the database):
/// a batch uploaded through one and attached through the other is processed exactly once,
/// a killed process's leased work is finished by the survivor after the lease lapses, a process
/// stopped with SIGTERM hands its work to the survivor at once (no lease to wait out), and a
/// cancel sent to one process stops the work running in the other at once (LISTEN/NOTIFY),
/// not at its next lease heartbeat; and BM25's stored term statistics stay exact while both
/// processes publish into the same stores and terms at once.
/// </summary>
public sealed partial class MultiProcessPostgresTests : IAsyncLifetime
{
    private const string Key = "multi-process-key";
    private const int Files = 200;

    /// <summary>How long B may take to stop after the cancel answered: far below the 20 s heartbeat of a 60 s lease.</summary>
    private const int StopBoundSeconds = 5;

    /// <summary>The remote model of the cancel test, served by <see cref="HoldingEmbeddingServer"/>.</summary>
    private const string HeldModel = "openai:held-8";

    private readonly List<ServerProcess> _servers = [];
    private string? _database;
    private string _connectionString = "";

    public MultiProcessPostgresTests() => PostgresTestServer.RequireOrSkip();

    public ValueTask InitializeAsync()
    {
        (_database, _connectionString) = PostgresTestServer.CreateDatabase();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            server.Dispose();
        }

        if (_database is not null)
        {
            await PostgresTestServer.DropDatabaseAsync(_database);
        }
    }

    [Fact]
    public async Task A_200_file_batch_across_two_processes_is_processed_exactly_once()
    {
        var (a, b) = await StartTwoAsync(leaseSeconds: 30);
        var (storeId, batchId) = await UploadAndAttachAsync(a.Client, b.Client);

        var batch = await a.Client.WaitForBatchAsync("/v1", storeId, batchId, timeoutSeconds: 300);
        Assert.Equal("completed", (string?)batch["status"]);
        Assert.Equal(Files, batch.Count("completed"));

        // The batch answers completed once the last file is published; its log line may trail.
        await WaitUntilAsync(() => a.Ingested.Concat(b.Ingested).Distinct().Count() == Files, "every file logged as ingested");
        var counts = a.Ingested.Concat(b.Ingested).GroupBy(f => f).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Files, counts.Count);
        Assert.All(counts, c => Assert.Equal(1, c.Value));
        Assert.Equal(0L, await ScalarAsync(
            "SELECT COUNT(*) FROM (SELECT 1 FROM chunks GROUP BY file_id, chunk_index HAVING COUNT(*) > 1) AS duplicated"));
        TestContext.Current.SendDiagnosticMessage($"process A ingested {a.Ingested.Count}, process B {b.Ingested.Count}");
    }

    [Fact]
    public async Task Killing_one_process_mid_batch_leaves_the_other_to_finish_after_lease_expiry()
    {
        var (a, b) = await StartTwoAsync(leaseSeconds: 3);
        var (storeId, batchId) = await UploadAndAttachAsync(a.Client, b.Client);

        // Wait until A has done some of the work, then kill it without a graceful shutdown.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (a.Ingested.Count < 5)
        {
            Assert.True(DateTime.UtcNow < deadline, "Process A never ingested anything.");
            await Task.Delay(10, Ct);
        }

        a.Kill();
        var batch = await b.Client.WaitForBatchAsync("/v1", storeId, batchId, timeoutSeconds: 300);
        Assert.Equal("completed", (string?)batch["status"]);
        Assert.Equal(Files, batch.Count("completed"));
        Assert.Equal(0, batch.Count("failed"));

        // No file was published twice: in the database (the logs can miss a publication A made just before it died,
        // which is the case that matters), and in the logs (a file may show zero times there, never twice).
        Assert.Equal(0L, await ScalarAsync(
            "SELECT COUNT(*) FROM (SELECT 1 FROM chunks GROUP BY file_id, chunk_index HAVING COUNT(*) > 1) AS duplicated"));
        Assert.Equal((long)Files, await ScalarAsync($"SELECT COUNT(DISTINCT file_id) FROM chunks WHERE vector_store_id = '{storeId}'"));
        var counts = a.Ingested.Concat(b.Ingested).GroupBy(f => f).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(counts, c => Assert.Equal(1, c.Value));
        Assert.True(b.Ingested.Count > 0);
    }

    [Fact]
    public async Task Stopping_one_process_with_SIGTERM_mid_batch_hands_its_work_to_the_other_at_once()
    {
        const int held = 4;
        await using var embedder = await HoldingEmbeddingServer.StartAsync();
        // A lease far longer than the waits below: B can only finish A's files because A hands them back as it stops.
        var (a, b) = await StartTwoAsync(leaseSeconds: 600, embedder);
        var ids = new string[held];
        for (var i = 0; i < held; i++)
        {
            ids[i] = (string)(await a.Client.UploadAsync("/v1", $"deploy-{i}.txt", $"Document {i} of a rolling deploy, about tides and harbours."))["id"]!;
        }

        var storeId = (string)(await a.Client.CreateStoreAsync("/v1", "{\"embedding_model\":\"" + HeldModel + "\"}"))["id"]!;
        var batch = await a.Client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches",
            "{\"file_ids\":[" + string.Join(",", ids.Select(id => "\"" + id + "\"")) + "]}");
        var batchId = (string)batch["id"]!;

        // Two workers per process and every embedding call held: each process holds two files.
        await WaitUntilAsync(() => embedder.InFlight("a") == 2 && embedder.InFlight("b") == 2, "two files held in each process");

        // A rolling deploy stops A: it abandons its calls, hands its two claims back and exits cleanly.
        Assert.Equal(0, await a.TerminateAsync());
        Assert.Equal(2, embedder.Aborts("a").Count);

        // B finishes its own two and then A's two, long before A's claims could have lapsed.
        embedder.Release();
        var done = await b.Client.WaitForBatchAsync("/v1", storeId, batchId, timeoutSeconds: 60);
        Assert.Equal("completed", (string?)done["status"]);
        Assert.Equal(held, done.Count("completed"));
        await a.WaitForLogAsync(HandedBackLine(), count: 2);
        await WaitUntilAsync(() => b.Ingested.Distinct().Count() == held, "every file logged as ingested by B");
        Assert.Empty(a.Ingested);
        Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM ingestion_jobs WHERE vector_store_id = '{storeId}'"));
        Assert.Equal(0L, await ScalarAsync(
            "SELECT COUNT(*) FROM (SELECT 1 FROM chunks GROUP BY file_id, chunk_index HAVING COUNT(*) > 1) AS duplicated"));
    }

    [Fact]
    public async Task A_cancel_sent_to_process_A_stops_work_running_in_process_B()
    {
        const int held = 4;
        await using var embedder = await HoldingEmbeddingServer.StartAsync();
        // A 60 s lease renews every 20 s: a heartbeat cannot be what stops B's work within the bound.
        var (a, b) = await StartTwoAsync(leaseSeconds: 60, embedder);
        await Task.WhenAll(a.WaitForLogAsync(ListeningLine()), b.WaitForLogAsync(ListeningLine()));

        var ids = new string[held];
        for (var i = 0; i < held; i++)
        {
            ids[i] = (string)(await a.Client.UploadAsync("/v1", $"held-{i}.txt", $"Held document {i} about tides and harbours."))["id"]!;
        }

        var storeId = (string)(await a.Client.CreateStoreAsync("/v1", "{\"embedding_model\":\"" + HeldModel + "\"}"))["id"]!;
        var batch = await a.Client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches",
            "{\"file_ids\":[" + string.Join(",", ids.Select(id => "\"" + id + "\"")) + "]}");
        var batchId = (string)batch["id"]!;

        // Two workers per process and every embedding call held: each process ends up holding two files.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (embedder.InFlight("a") + embedder.InFlight("b") < held || embedder.InFlight("b") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Work never got in flight in both processes (a: {embedder.InFlight("a")}, b: {embedder.InFlight("b")}).");
            await Task.Delay(10, Ct);
        }

        var inB = embedder.InFlight("b");
        var cancelled = await a.Client.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}/cancel", "");
        var answeredAt = Stopwatch.GetTimestamp();
        Assert.Equal("cancelled", (string?)cancelled["status"]);
        Assert.Equal(held, cancelled.Count("cancelled"));

        // B abandons its embedding calls: its workers' tokens were cancelled by A's notification.
        deadline = DateTime.UtcNow.AddSeconds(StopBoundSeconds);
        while (embedder.Aborts("b").Count < inB)
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"Process B still ran {inB - embedder.Aborts("b").Count} of {inB} cancelled jobs {StopBoundSeconds} s after the cancel answered.");
            await Task.Delay(5, Ct);
        }

        var stopMs = embedder.Aborts("b").Select(at => Stopwatch.GetElapsedTime(answeredAt, at).TotalMilliseconds).ToList();
        await b.WaitForLogAsync(StoppedLine(), count: inB);
        TestContext.Current.SendDiagnosticMessage(
            $"cancel answered by A -> B's embedding calls abandoned after: {string.Join(", ", stopMs.Select(ms => $"{ms:F1} ms"))}");

        // Nothing is published after the cancel, even if the held calls answer now. Idle is
        // observable: every held call has ended and the cancel left no job any worker could claim,
        // so no later publication can happen after the assertions below.
        embedder.Release();
        await WaitUntilAsync(() => embedder.InFlight("a") + embedder.InFlight("b") == 0, "every held embedding call ended");
        Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM ingestion_jobs WHERE vector_store_id = '{storeId}'"));
        Assert.Empty(embedder.Answered);
        Assert.Empty(a.Ingested.Concat(b.Ingested));
        var after = await b.Client.GetJsonAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}");
        Assert.Equal(held, after.Count("cancelled"));
        Assert.Equal(0, after.Count("completed"));
        Assert.Equal(0L, await ScalarAsync("SELECT COUNT(*) FROM chunks"));
    }

    [Fact]
    public async Task Term_statistics_stay_exact_while_two_processes_publish_into_the_same_stores()
    {
        string[] vocabulary =
        [
            "protein", "binding", "cells", "immune", "response", "tumour", "mice", "dna", "methylation", "receptor",
            "signal", "kinase", "inhibitor", "gene", "expression", "the", "of", "and", "café", "x-ray",
        ];
        var random = new Random(20261207);
        var texts = Enumerable.Range(0, 120)
            .Select(i => $"Doc {i}. " + string.Join(' ', Enumerable.Range(0, random.Next(5, 90)).Select(_ => vocabulary[random.Next(vocabulary.Length)])))
            .ToArray();

        var (a, b) = await StartTwoAsync(leaseSeconds: 30);
        var ids = new string[texts.Length];
        await Parallel.ForAsync(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, _) =>
            ids[i] = (string)(await (i % 2 == 0 ? a : b).Client.UploadAsync("/v1", $"doc-{i}.txt", texts[i]))["id"]!);
        var first = (string)(await a.Client.CreateStoreAsync("/v1"))["id"]!;
        var second = (string)(await b.Client.CreateStoreAsync("/v1"))["id"]!;

        // Overlapping batches through both processes into both stores (files 40..79 are attached twice to the first
        // store at once: the later attach supersedes the earlier), so both processes' workers publish into the same
        // stores' term rows concurrently; then, while that runs, detaches and re-attaches through the other process.
        static string Batch(IEnumerable<string> files) => "{\"file_ids\":[" + string.Join(",", files.Select(id => "\"" + id + "\"")) + "]}";
        await Task.WhenAll(
            a.Client.PostJsonAsync($"/v1/vector_stores/{first}/file_batches", Batch(ids[..80])),
            b.Client.PostJsonAsync($"/v1/vector_stores/{first}/file_batches", Batch(ids[40..])),
            b.Client.PostJsonAsync($"/v1/vector_stores/{second}/file_batches", Batch(ids.Where((_, i) => i % 3 != 0))));
        for (var i = 0; i < 30; i++)
        {
            var file = ids[random.Next(ids.Length)];
            var client = (i % 2 == 0 ? b : a).Client;
            if (random.Next(2) == 0)
            {
                await client.DeleteAsync($"/v1/vector_stores/{first}/files/{file}", Ct);
            }
            else
            {
                await client.PostJsonAsync($"/v1/vector_stores/{second}/files", "{\"file_id\":\"" + file + "\",\"attributes\":{\"round\":" + i + "}}");
            }
        }

        var deadline = DateTime.UtcNow.AddSeconds(300);
        while (await ScalarAsync("SELECT COUNT(*) FROM ingestion_jobs") + await ScalarAsync("SELECT COUNT(*) FROM vector_store_files WHERE status = 'in_progress'") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The stores never settled.");
            await Task.Delay(100, Ct);
        }

        NpgsqlConnection Open() => new(_connectionString);
        var chunks = await Search.StoredLexicalStatistics.ReadChunksAsync(Open);
        Assert.True(chunks.Count > 100, $"only {chunks.Count} chunks published");
        Assert.NotEmpty(a.Ingested);
        Assert.NotEmpty(b.Ingested);
        await Search.StoredLexicalStatistics.AssertMatchAsync(Open, chunks, Quiver.Core.Search.Fts5Analyzer.Shared.Analyze([.. chunks.Select(c => c.Text)]));
        TestContext.Current.SendDiagnosticMessage($"{chunks.Count} chunks; process A ingested {a.Ingested.Count}, process B {b.Ingested.Count}");
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for: {what}.");
            await Task.Delay(10, Ct);
        }
    }

    private async Task<(ServerProcess A, ServerProcess B)> StartTwoAsync(int leaseSeconds, HoldingEmbeddingServer? embedder = null)
    {
        var a = Start("a", leaseSeconds, embedder);
        var b = Start("b", leaseSeconds, embedder);
        await Task.WhenAll(a.WaitReadyAsync(), b.WaitReadyAsync());
        return (a, b);
    }

    private static async Task<(string StoreId, string BatchId)> UploadAndAttachAsync(HttpClient uploader, HttpClient attacher)
    {
        var ids = new string[Files];
        await Parallel.ForAsync(0, Files, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, _) =>
        {
            var file = await uploader.UploadAsync("/v1", $"doc-{i}.txt", $"Document {i}. The quick brown fox number {i} jumps over lazy dog {i * 7}.");
            ids[i] = (string)file["id"]!;
        });

        var store = await attacher.CreateStoreAsync("/v1");
        var storeId = (string)store["id"]!;
        var fileIds = string.Join(",", ids.Select(id => "\"" + id + "\""));
        var batch = await attacher.PostJsonAsync($"/v1/vector_stores/{storeId}/file_batches", "{\"file_ids\":[" + fileIds + "]}");
        return (storeId, (string)batch["id"]!);
    }

    private ServerProcess Start(string name, int leaseSeconds, HoldingEmbeddingServer? embedder)
    {
        var port = FreePort();
        var dataDir = Path.Combine(Path.GetTempPath(), "quiver-tests", "mp-" + name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Quiver.Server.dll"));
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        info.ArgumentList.Add("--data-dir");
        info.ArgumentList.Add(dataDir);
        info.Environment["QUIVER_API_KEY"] = Key;
        info.Environment["Quiver__Storage__Provider"] = "postgres";
        info.Environment["ConnectionStrings__Quiver"] = _connectionString;
        info.Environment["Quiver__Ingestion__Workers"] = "2";
        info.Environment["Quiver__Ingestion__LeaseSeconds"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Logging__LogLevel__Default"] = "Information";
        info.Environment["Logging__Console__FormatterName"] = "systemd";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        if (embedder is not null)
        {
            // An ordinary remote model; the API key tells the embedding server which process calls.
            const string model = "Quiver__Embeddings__Remote__0__";
            info.Environment[model + "Id"] = HeldModel;
            info.Environment[model + "BaseUrl"] = embedder.BaseUrl;
            info.Environment[model + "ApiKey"] = name;
            info.Environment[model + "Dimensions"] = HoldingEmbeddingServer.Dimensions.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment[model + "MaxAttempts"] = "1";
            info.Environment[model + "TimeoutSeconds"] = "300";
        }

        var server = new ServerProcess(Process.Start(info)!, port, dataDir);
        _servers.Add(server);
        return server;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Ingested (file-\w+) into ")]
    private static partial Regex IngestedLine();

    [GeneratedRegex(@"Listening for ingestion cancels from other processes")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"Handed file-\w+ in vs_\w+ back to the queue on shutdown")]
    private static partial Regex HandedBackLine();

    [GeneratedRegex(@"Stopped file-\w+ in vs_\w+: job \d+ generation \d+ was taken away")]
    private static partial Regex StoppedLine();

    /// <summary>A running server: its client, and the file ids it logged as ingested.</summary>
    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly string _dataDir;
        private readonly ConcurrentQueue<string> _log = new();

        public ServerProcess(Process process, int port, string dataDir)
        {
            _process = process;
            _dataDir = dataDir;
            Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            process.OutputDataReceived += (_, e) => OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public HttpClient Client { get; }

        public ConcurrentBag<string> Ingested { get; } = [];

        public async Task WaitReadyAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (true)
            {
                Assert.False(_process.HasExited, "Server exited during start-up:\n" + string.Join('\n', _log));
                try
                {
                    using var ready = await Client.GetAsync("/readyz", Ct);
                    if (ready.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }

                Assert.True(DateTime.UtcNow < deadline, "Server not ready after 120 s:\n" + string.Join('\n', _log));
                await Task.Delay(100, Ct);
            }
        }

        /// <summary>Waits until the server has logged <paramref name="count"/> lines matching <paramref name="pattern"/>.</summary>
        public async Task WaitForLogAsync(Regex pattern, int count = 1)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (_log.Count(pattern.IsMatch) < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Server never logged {count} x '{pattern}':\n" + string.Join('\n', _log));
                await Task.Delay(10, Ct);
            }
        }

        /// <summary>Sends SIGTERM, as a process manager or a rolling deploy does, and returns the exit code.</summary>
        public async Task<int> TerminateAsync()
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync(Ct);
            }

            using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            bound.CancelAfter(TimeSpan.FromSeconds(60));
            await _process.WaitForExitAsync(bound.Token);
            return _process.ExitCode;
        }

        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            _log.Enqueue(line);
            if (IngestedLine().Match(line) is { Success: true } match)
            {
                Ingested.Add(match.Groups[1].Value);
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }

            _process.Dispose();
            Client.Dispose();
            try
            {
                Directory.Delete(_dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
