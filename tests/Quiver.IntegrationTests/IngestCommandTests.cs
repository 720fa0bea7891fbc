using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

using Quiver.IntegrationTests.Infrastructure;

namespace Quiver.IntegrationTests;

/// <summary>
/// <c>ingest</c> and <c>search</c> run as processes against a live server process (the embedded default
/// with its real local model): summary counts and failure reasons, resume without re-uploading, SIGTERM
/// cancelling the running batch cleanly, and a search table.
/// </summary>
public sealed class IngestCommandTests : IAsyncLifetime
{
    private const string Key = "ingest-test-key";
    private static readonly string ServerDll = Path.Combine(AppContext.BaseDirectory, "Quiver.Server.dll");
    private readonly string _root = Path.Combine(Path.GetTempPath(), "quiver-tests", "ingest-" + Guid.NewGuid().ToString("N"));
    private Process? _server;
    private string _url = "";
    private HttpClient _http = new();

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var port = Ports.Free();
        _url = $"http://127.0.0.1:{port}";
        var info = Start("serve", "--urls", _url, "--data-dir", Path.Combine(_root, "data"));
        info.Environment["Quiver__Ingestion__Workers"] = "2";
        _server = Process.Start(info)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        _http = new HttpClient { BaseAddress = new Uri(_url + "/") };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                if ((await _http.GetAsync("readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline || _server.HasExited)
            {
                throw new InvalidOperationException("The server did not become ready.");
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Ingest_reports_completed_and_failed_files_resumes_without_uploading_again_and_search_finds_them()
    {
        var docs = Path.Combine(_root, "docs");
        Directory.CreateDirectory(Path.Combine(docs, "sub"));
        for (var i = 1; i <= 12; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(docs, $"note{i}.txt"), $"Note {i} is about the harbour of Quivertown and its lighthouse number {i}.", TestContext.Current.CancellationToken);
        }

        await File.WriteAllTextAsync(Path.Combine(docs, "sub", "pelicans.md"), "# Birds\n\nThe pelicans of Quivertown nest on the breakwater every spring.", TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(docs, "random.bin"), [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 37 % 251))], TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(docs, "skip.log"), "not included", TestContext.Current.CancellationToken);

        var first = await RunAsync("ingest", docs, "--store", "handbook", "--include", "**/*.txt", "**/*.md", "**/*.bin", "--attributes", "team=a", "year=2024");

        Assert.Equal(1, first.ExitCode); // one file failed
        Assert.Matches(Row("completed", 13), first.Stdout);
        Assert.Matches(Row("failed", 1), first.Stdout);
        Assert.Matches(Row("skipped \\(already in the store\\)", 0), first.Stdout);
        Assert.Matches(Row("total", 14), first.Stdout);
        // The failure reasons are a second table, one unwrapped row per file; redirected, the progress is plain lines.
        Assert.Matches(@"│ \S*random\.bin\s*│ unsupported_file\s*│ [^\n]*cannot be searched", first.Stdout);
        Assert.Contains("Uploading (0 already in the store): 14/14", first.Stdout);
        Assert.Matches(@"Processing: 13 completed, 0 in progress, 1 failed, 0 cancelled: 14/14", first.Stdout);
        var store = await StoreAsync("handbook");
        Assert.Equal(14, store.GetProperty("file_counts").GetProperty("total").GetInt32());
        var uploads = await FileCountAsync();
        Assert.Equal(14, uploads);

        var again = await RunAsync("ingest", docs, "--store", store.GetProperty("id").GetString()!, "--include", "**/*.txt", "**/*.md", "**/*.bin", "--attributes", "team=a", "year=2024");

        Assert.Matches(Row("skipped \\(already in the store\\)", 13), again.Stdout);
        Assert.Matches(Row("completed", 0), again.Stdout);
        Assert.Equal(uploads, await FileCountAsync()); // nothing uploaded twice; the failed one was attached again by id

        var search = await RunAsync("search", "handbook", "pelicans nesting on the breakwater", "--max-results", "3", "--filter", """{"type":"eq","key":"year","value":2024}""");

        Assert.Equal(0, search.ExitCode);
        var firstRow = search.Stdout.Split('\n').First(l => l.Contains("│  1 │", StringComparison.Ordinal) || l.Contains("│ 1 │", StringComparison.Ordinal));
        Assert.Contains("pelicans.md", firstRow);

        var none = await RunAsync("search", "handbook", "pelicans", "--filter", """{"type":"eq","key":"team","value":"b"}""");
        Assert.Equal(0, none.ExitCode);
        Assert.Equal("No results.", none.Stdout.Trim());
    }

    [Fact]
    public async Task Sigterm_cancels_the_running_batch_leaves_every_file_terminal_and_a_rerun_completes_the_rest()
    {
        var docs = Path.Combine(_root, "many");
        Directory.CreateDirectory(docs);
        var words = new[] { "alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "lambda" };
        var random = new Random(7);
        for (var i = 1; i <= 200; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(docs, $"f{i:000}.txt"), string.Join(' ', Enumerable.Range(0, 400).Select(_ => words[random.Next(words.Length)])) + $" marker{i}", TestContext.Current.CancellationToken);
        }

        var info = Start("ingest", docs, "--store", "big", "--server", _url);
        using var ingest = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        var processing = new TaskCompletionSource();
        ingest.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains("Processing", StringComparison.Ordinal) == true)
            {
                processing.TrySetResult();
            }
        };
        ingest.ErrorDataReceived += (_, _) => { };
        ingest.BeginOutputReadLine();
        ingest.BeginErrorReadLine();
        await processing.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        using (var kill = Process.Start("kill", ["-TERM", ingest.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        await ingest.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(90), TestContext.Current.CancellationToken);
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        Assert.Equal(130, ingest.ExitCode);
        Assert.Contains("Interrupted: the running batches were cancelled.", text);
        var counts = (await StoreAsync("big")).GetProperty("file_counts");
        Assert.Equal(0, counts.GetProperty("in_progress").GetInt32());
        Assert.True(counts.GetProperty("cancelled").GetInt32() > 0, text);
        Assert.Equal(200, counts.GetProperty("total").GetInt32());
        var uploads = await FileCountAsync();

        var resumed = await RunAsync("ingest", docs, "--store", "big");

        Assert.Equal(0, resumed.ExitCode);
        Assert.Matches(Row("completed", counts.GetProperty("cancelled").GetInt32()), resumed.Stdout);
        Assert.Matches(Row("skipped \\(already in the store\\)", counts.GetProperty("completed").GetInt32()), resumed.Stdout);
        var after = (await StoreAsync("big")).GetProperty("file_counts");
        Assert.Equal(200, after.GetProperty("completed").GetInt32());
        Assert.Equal(uploads, await FileCountAsync());
    }

    [Fact]
    public async Task Ingest_into_an_id_that_names_no_store_creates_none()
    {
        var docs = Path.Combine(_root, "one");
        Directory.CreateDirectory(docs);
        await File.WriteAllTextAsync(Path.Combine(docs, "a.txt"), "a note", TestContext.Current.CancellationToken);

        var run = await RunAsync("ingest", docs, "--store", "vs_doesnotexist");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("quiver: no vector store with the id or name 'vs_doesnotexist'; a store is created only for a name, never for an id (vs_...).", run.Stderr.Trim());
        using var stores = JsonDocument.Parse(await _http.GetStringAsync("v1/vector_stores", TestContext.Current.CancellationToken));
        Assert.Equal(0, stores.RootElement.GetProperty("data").GetArrayLength());
        Assert.Equal(0, await FileCountAsync());
    }

    [Theory]
    [InlineData("ingest")]
    [InlineData("search")]
    public async Task Help_of_the_server_verbs_lists_their_options_and_touches_nothing(string verb)
    {
        var run = await RunAsync(verb, "--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var option in verb == "ingest"
            ? new[] { "--store", "--attributes", "--include", "--parallel", "--batch-size", "--server", "QUIVER_URL", "--key", "QUIVER_API_KEY" }
            : ["--max-results", "--filter", "--server", "--key"])
        {
            Assert.Contains(option, run.Stdout);
        }

        Assert.DoesNotContain("--data-dir", run.Stdout);
    }

    private static string Row(string label, int count) => $@"│ {label}\s*│\s*{count} │";

    private async Task<JsonElement> StoreAsync(string name)
    {
        using var page = JsonDocument.Parse(await _http.GetStringAsync("v1/vector_stores?limit=100"));
        return page.RootElement.GetProperty("data").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name).Clone();
    }

    private async Task<int> FileCountAsync()
    {
        using var page = JsonDocument.Parse(await _http.GetStringAsync("v1/files?limit=10000"));
        return page.RootElement.GetProperty("data").GetArrayLength();
    }

    private ProcessStartInfo Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ServerDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["QUIVER_API_KEY"] = Key;
        info.Environment["QUIVER_URL"] = _url;
        info.Environment.Remove("QUIVER_DATA_DIR");
        info.Environment.Remove("ASPNETCORE_URLS");
        info.Environment.Remove("ConnectionStrings__Quiver");
        info.Environment.Remove("Quiver__Storage__Provider");
        return info;
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Process.Start(Start(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(180), TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

}
