using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

using static Quiver.Bench.BenchSupport;

namespace Quiver.Bench;

/// <summary>
/// Load benchmark: starts the real server as a child process (embedded default: SQLite + the local model) on
/// loopback and drives it from N connections for a set time with a mix of searches, lists, retrievals, uploads
/// with attach, and batch create + cancel. Reports throughput, p50/p99 per route, every non-2xx status (5xx
/// must be 0), and the server's RSS over time (sampled from /proc) with its trend. With <c>--steady-data</c> every
/// file an operation uploads is detached and deleted again by the same operation (both real routes, often racing
/// the file's ingestion), so the data set stays the seed's size and a growing RSS means a leak, not more data.
/// Usage: <c>dotnet bench/Quiver.Bench/bin/Release/net10.0/Quiver.Bench.dll load [--connections 32] [--seconds 300]
/// [--seed-files 200] [--steady-data] [--server-dll src/Quiver.Server/bin/Release/net10.0/Quiver.Server.dll]</c>
/// </summary>
public static class LoadBenchmark
{
    private const string ApiKey = "load-bench-key";

    private static readonly string[] Vocabulary =
    [
        "lighthouse", "harbor", "invoice", "password", "shipping", "glacier", "protein", "enzyme", "satellite", "orbit",
        "battery", "lithium", "contract", "warranty", "reactor", "turbine", "vaccine", "antibody", "sensor", "network",
        "latency", "cache", "database", "index", "vector", "search", "ranking", "filter", "batch", "cancel",
    ];

    private static readonly (string Route, int Weight)[] Mix =
    [
        ("search", 45), ("search filtered", 10), ("list stores", 8), ("list files", 8), ("get store", 9),
        ("upload + attach", 12), ("batch create + cancel", 8),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var connections = Option(args, "--connections", 32);
        var seconds = Option(args, "--seconds", 300);
        var seedFiles = Option(args, "--seed-files", 200);
        var steadyData = args.Contains("--steady-data");
        var serverDll = Option(args, "--server-dll") ?? Path.Combine("src", "Quiver.Server", "bin", "Release", "net10.0", "Quiver.Server.dll");
        if (!File.Exists(serverDll))
        {
            Console.Error.WriteLine($"{serverDll} not found: build it first (dotnet build src/Quiver.Server -c Release).");
            return 2;
        }

        var dataDir = Path.Combine(Path.GetTempPath(), "quiver-bench-load-" + Guid.NewGuid().ToString("N"));
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [serverDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["QUIVER_API_KEY"] = ApiKey,
                ["Quiver__DataDir"] = dataDir,
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["Logging__LogLevel__Default"] = "Warning",
            },
        };
        using var server = Process.Start(start)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Error.WriteLine("[server] " + e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(30) };
            using var http = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(120) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            await WaitReadyAsync(http);

            var random = new Random(42);
            Console.WriteLine($"load: {connections} connections, {seconds} s, seed store of {seedFiles} files{(steadyData ? ", steady data (uploads deleted again)" : "")}, server pid {server.Id}, {Environment.ProcessorCount} cores");
            var storeId = (string)(await ReadAsync(await http.PostAsync("/v1/vector_stores", Json("""{"name":"load"}"""))))["id"]!;
            var seedIds = await UploadTextFilesAsync(http, [.. Enumerable.Range(0, seedFiles).Select(i => Document(random, i))]);
            foreach (var chunk in seedIds.Chunk(100))
            {
                var batch = await ReadAsync(await http.PostAsync($"/v1/vector_stores/{storeId}/file_batches",
                    Json(new JsonObject { ["file_ids"] = new JsonArray([.. chunk.Select(id => (JsonNode)id)]), ["attributes"] = new JsonObject { ["group"] = "seed" } }.ToJsonString())));
                await WaitBatchAsync(http, storeId, (string)batch["id"]!);
            }

            Console.WriteLine($"seeded {seedFiles} files; RSS {Rss(server.Id) / 1024.0:F0} MiB; running the mix");
            var latencies = new ConcurrentDictionary<string, ConcurrentBag<double>>();
            var statuses = new ConcurrentDictionary<string, int>();
            var rss = new ConcurrentQueue<(double Seconds, long Kib)>();
            var clock = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    rss.Enqueue((clock.Elapsed.TotalSeconds, Rss(server.Id)));
                    try { await Task.Delay(TimeSpan.FromSeconds(5), stop.Token); } catch (OperationCanceledException) { }
                }
            });

            var totalWeight = Mix.Sum(m => m.Weight);
            var clients = Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
            {
                var local = new Random(1000 + c);
                while (!stop.IsCancellationRequested)
                {
                    var pick = local.Next(totalWeight);
                    var route = Mix.First(m => (pick -= m.Weight) < 0).Route;
                    var t = Stopwatch.GetTimestamp();
                    var codes = await RunAsync(http, route, storeId, local, steadyData);
                    latencies.GetOrAdd(route, _ => []).Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    foreach (var code in codes)
                    {
                        statuses.AddOrUpdate($"{route} {code}", 1, (_, n) => n + 1);
                    }
                }
            })).ToArray();
            await Task.WhenAll(clients);
            await sampler;
            var elapsed = clock.Elapsed.TotalSeconds;

            Console.WriteLine();
            Console.WriteLine($"| route | operations | per s | p50 ms | p99 ms |");
            Console.WriteLine($"|---|---:|---:|---:|---:|");
            foreach (var (route, _) in Mix)
            {
                var values = latencies.GetValueOrDefault(route)?.ToArray() ?? [];
                if (values.Length == 0)
                {
                    Console.WriteLine($"| {route} | 0 | | | |");
                    continue;
                }

                Console.WriteLine(F($"| {route} | {values.Length} | {values.Length / elapsed:F1} | {Percentile(values, 0.50):F1} | {Percentile(values, 0.99):F1} |"));
            }

            var total = latencies.Values.Sum(v => v.Count);
            Console.WriteLine(F($"| all | {total} | {total / elapsed:F1} | | |"));
            Console.WriteLine();
            Console.WriteLine("HTTP statuses: " + string.Join(", ", statuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}: {s.Value}")));
            var serverErrors = statuses.Where(s => s.Key.EndsWith(" 5xx", StringComparison.Ordinal) || s.Key.EndsWith(" error", StringComparison.Ordinal)).Sum(s => s.Value);
            Console.WriteLine($"5xx or transport errors: {serverErrors}");

            var samples = rss.ToArray();
            if (samples.Length >= 4)
            {
                var quarter = samples.Length / 4;
                var first = samples.Take(quarter).Average(s => s.Kib) / 1024.0;
                var last = samples.Skip(samples.Length - quarter).Average(s => s.Kib) / 1024.0;
                Console.WriteLine(F($"RSS MiB: min {samples.Min(s => s.Kib) / 1024.0:F0}, max {samples.Max(s => s.Kib) / 1024.0:F0}; first quarter avg {first:F0}, last quarter avg {last:F0}; slope {Slope(samples) * 60 / 1024.0:F1} MiB/min"));
                var secondHalf = samples[(samples.Length / 2)..];
                Console.WriteLine(F($"RSS slope over the second half: {Slope(secondHalf) * 60 / 1024.0:F1} MiB/min"));
                Console.WriteLine("RSS MiB per minute: " + string.Join(", ", samples.GroupBy(s => (int)(s.Seconds / 60))
                    .Select(g => F($"{g.Key}:{g.Average(s => s.Kib) / 1024.0:F0}"))));
            }

            var finalStore = await ReadAsync(await http.GetAsync($"/v1/vector_stores/{storeId}"));
            Console.WriteLine($"store at the end: usage_bytes {finalStore["usage_bytes"]}, file_counts {finalStore["file_counts"]!.ToJsonString()}");

            return serverErrors == 0 ? 0 : 1;
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }

            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>One operation of the mix; returns the status class of each HTTP call ("2xx", "4xx", "5xx" or "error").</summary>
    private static async Task<List<string>> RunAsync(HttpClient http, string route, string storeId, Random random, bool steadyData)
    {
        var codes = new List<string>();
        async Task<JsonObject?> Call(HttpMethod method, string url, string? body = null)
        {
            try
            {
                using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : Json(body) };
                using var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                codes.Add((int)response.StatusCode / 100 + "xx");
                return response.IsSuccessStatusCode && text.Length > 0 ? JsonNode.Parse(text)?.AsObject() : null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                codes.Add("error");
                return null;
            }
        }

        string Words(int count) => string.Join(' ', Enumerable.Range(0, count).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]));
        switch (route)
        {
            case "search":
                await Call(HttpMethod.Post, $"/v1/vector_stores/{storeId}/search", new JsonObject { ["query"] = Words(3), ["max_num_results"] = 10 }.ToJsonString());
                break;
            case "search filtered":
                await Call(HttpMethod.Post, $"/v1/vector_stores/{storeId}/search",
                    new JsonObject { ["query"] = Words(3), ["filters"] = new JsonObject { ["type"] = "eq", ["key"] = "group", ["value"] = "seed" } }.ToJsonString());
                break;
            case "list stores":
                await Call(HttpMethod.Get, "/v1/vector_stores?limit=20");
                break;
            case "list files":
                await Call(HttpMethod.Get, $"/v1/vector_stores/{storeId}/files?limit=50");
                break;
            case "get store":
                await Call(HttpMethod.Get, $"/v1/vector_stores/{storeId}");
                break;
            case "upload + attach":
            {
                var fileId = await UploadAsync(http, Document(random, random.Next()), codes);
                if (fileId is not null)
                {
                    await Call(HttpMethod.Post, $"/v1/vector_stores/{storeId}/files", new JsonObject { ["file_id"] = fileId }.ToJsonString());
                    if (steadyData)
                    {
                        await Call(HttpMethod.Delete, $"/v1/vector_stores/{storeId}/files/{fileId}");
                        await Call(HttpMethod.Delete, $"/v1/files/{fileId}");
                    }
                }

                break;
            }
            case "batch create + cancel":
            {
                var ids = new JsonArray();
                for (var i = 0; i < 5; i++)
                {
                    if (await UploadAsync(http, Document(random, random.Next()), codes) is { } id)
                    {
                        ids.Add(id);
                    }
                }

                if (await Call(HttpMethod.Post, $"/v1/vector_stores/{storeId}/file_batches", new JsonObject { ["file_ids"] = ids }.ToJsonString()) is { } batch)
                {
                    await Call(HttpMethod.Post, $"/v1/vector_stores/{storeId}/file_batches/{(string)batch["id"]!}/cancel");
                }

                if (steadyData)
                {
                    foreach (var id in ids)
                    {
                        await Call(HttpMethod.Delete, $"/v1/vector_stores/{storeId}/files/{(string)id!}");
                        await Call(HttpMethod.Delete, $"/v1/files/{(string)id!}");
                    }
                }

                break;
            }
        }

        return codes;
    }

    private static async Task<string?> UploadAsync(HttpClient http, string text, List<string> codes)
    {
        try
        {
            using var form = new MultipartFormDataContent { { new StringContent("assistants"), "purpose" } };
            var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
            file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            form.Add(file, "file", "load.txt");
            using var response = await http.PostAsync("/v1/files", form);
            var body = await response.Content.ReadAsStringAsync();
            codes.Add((int)response.StatusCode / 100 + "xx");
            return response.IsSuccessStatusCode ? (string?)JsonNode.Parse(body)!["id"] : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            codes.Add("error");
            return null;
        }
    }

    private static string Document(Random random, int n)
    {
        var builder = new StringBuilder($"Document {n}. ");
        for (var sentence = 0; sentence < 8; sentence++)
        {
            for (var w = 0; w < 12; w++)
            {
                builder.Append(Vocabulary[random.Next(Vocabulary.Length)]).Append(' ');
            }

            builder.Append(". ");
        }

        return builder.ToString();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task WaitReadyAsync(HttpClient http)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                if ((await http.GetAsync("/v1/vector_stores?limit=1")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException("The server did not come up within 60 s.");
    }

    private static async Task WaitBatchAsync(HttpClient http, string storeId, string batchId)
    {
        while (true)
        {
            var batch = await ReadAsync(await http.GetAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}"));
            if ((string)batch["status"]! != "in_progress")
            {
                return;
            }

            await Task.Delay(500);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Resident set size of a process in KiB (Linux /proc), 0 when unreadable.</summary>
    private static long Rss(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Least-squares slope of RSS (KiB) over time (s).</summary>
    private static double Slope((double Seconds, long Kib)[] samples)
    {
        var mx = samples.Average(s => s.Seconds);
        var my = samples.Average(s => (double)s.Kib);
        var num = samples.Sum(s => (s.Seconds - mx) * (s.Kib - my));
        var den = samples.Sum(s => (s.Seconds - mx) * (s.Seconds - mx));
        return den == 0 ? 0 : num / den;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
