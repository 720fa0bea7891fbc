using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Quiver.CrashTests;

/// <summary>
/// The SQLite data directory on a small tmpfs (needs root for <c>mount</c>; skipped otherwise): uploads until the
/// disk is full must each get a clean error envelope (5xx, a server fault, not the client's; no dropped connection, no stack trace or path), the
/// server stays up and readable, and once space returns (remount larger) it works again with every invariant intact.
/// </summary>
internal static class DiskFull
{
    private const int SizeMiB = 48;

    public static async Task<string?> RunAsync(Options options, string dir, CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return "needs root on Linux to mount a tmpfs for the data directory";
        }

        var dataDir = Path.Combine(dir, "data");
        Directory.CreateDirectory(dataDir);
        if (await RunAsync("mount", ["-t", "tmpfs", "-o", $"size={SizeMiB}m", "tmpfs", dataDir], ct) is { } mountError)
        {
            return $"cannot mount a tmpfs ({mountError.Trim()})";
        }

        try
        {
            var backend = Backend.Sqlite(dataDir);
            using var http = Scenarios.NewClient();
            await using var server = new ServerProcess(options.ServerDll, backend.Environment, Path.Combine(dir, "server.log"));
            var api = new QuiverApi(http, server);
            await server.StartAsync(http, ct);
            var random = new Random(options.Seed);
            var ledger = new Ledger();
            var storeId = (string)(await api.RequireAsync(HttpMethod.Post, "/v1/vector_stores", new JsonObject { ["name"] = "disk-full" }, ct))["id"]!;
            await Workload.WaitForBatchAsync(api, storeId, await Workload.UploadAndBatchAsync(api, storeId, ledger, random, options.Files, ct), ct);

            // Fill: 1 MiB uploads until three in a row fail, then small uploads, a batch and a store create while full.
            var failures = new List<string>();
            var errors = new Dictionary<string, int>(StringComparer.Ordinal);
            var big = new List<string>();
            var payload = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("disk full filler line of text. ", 1024 * 1024 / 31)));
            var consecutive = 0;
            for (var i = 0; i < 4 * SizeMiB && consecutive < 3; i++)
            {
                var (status, body) = await CallAsync(failures, () => api.UploadAsync($"big-{i}.txt", payload, ct));
                if (status == 200)
                {
                    big.Add((string)body!["id"]!);
                    consecutive = 0;
                }
                else
                {
                    consecutive++;
                    Classify(failures, errors, "upload 1 MiB", status, body);
                }
            }

            if (consecutive < 3)
            {
                failures.Add($"the disk never filled: {big.Count} MiB uploaded to a {SizeMiB} MiB tmpfs");
            }

            for (var i = 0; i < 5; i++)
            {
                var (status, body) = await CallAsync(failures, () => api.UploadAsync($"small-{i}.txt", Encoding.UTF8.GetBytes(Workload.Document(random).Text), ct));
                if (status == 200)
                {
                    // Small writes may still fit; attach them so they are checked like the rest.
                    ledger.Phrases[(string)body!["id"]!] = "";
                }
                else
                {
                    Classify(failures, errors, "upload small", status, body);
                }
            }

            var (storeStatus, storeBody) = await CallAsync(failures, () => api.SendAsync(HttpMethod.Post, "/v1/vector_stores", new JsonObject { ["name"] = "while full" }, ct));
            if (storeStatus != 200)
            {
                Classify(failures, errors, "create store", storeStatus, storeBody);
            }

            // Reads keep working while the disk is full.
            foreach (var path in new[] { $"/v1/vector_stores/{storeId}", $"/v1/vector_stores/{storeId}/files?limit=10", "/v1/files?limit=10" })
            {
                var (status, body) = await CallAsync(failures, () => api.SendAsync(HttpMethod.Get, path, ct: ct));
                if (status != 200)
                {
                    failures.Add($"GET {path} answered {status} while the disk was full: {body?.ToJsonString()}");
                }
            }

            var (searchStatus, _) = await CallAsync(failures, () => api.SendAsync(HttpMethod.Post, $"/v1/vector_stores/{storeId}/search", new JsonObject { ["query"] = "lighthouse" }, ct));
            if (searchStatus != 200)
            {
                failures.Add($"search answered {searchStatus} while the disk was full");
            }

            Console.WriteLine($"  disk full after {big.Count} MiB; errors while full: {string.Join(", ", errors.Select(e => $"{e.Key} ×{e.Value}"))}");

            // Space returns: the same process must work again without a restart.
            if (await RunAsync("mount", ["-o", $"remount,size={SizeMiB * 8}m", dataDir], ct) is { } remountError)
            {
                throw new InvalidOperationException("remount failed: " + remountError);
            }

            var clock = Stopwatch.StartNew();
            await Workload.UntilAsync(async () => (await api.UploadAsync("probe.txt", "space is back"u8.ToArray(), ct)).Status == 200, TimeSpan.FromSeconds(30), ct);
            foreach (var id in big)
            {
                await api.RequireAsync(HttpMethod.Delete, $"/v1/files/{id}", ct: ct);
            }

            foreach (var orphan in ledger.Phrases.Where(p => p.Value.Length == 0).Select(p => p.Key).ToList())
            {
                ledger.Phrases.Remove(orphan);
                await api.RequireAsync(HttpMethod.Delete, $"/v1/files/{orphan}", ct: ct);
            }

            await Workload.WaitForBatchAsync(api, storeId, await Workload.UploadAndBatchAsync(api, storeId, ledger, random, options.Files, ct), ct);
            Console.WriteLine($"  recovered in {clock.Elapsed.TotalSeconds:F1} s after space returned");

            var check = await Invariants.CheckAsync(api, backend, storeId, ledger, TimeSpan.FromSeconds(120), ct);
            check.Failures.InsertRange(0, failures);
            if (!server.IsRunning)
            {
                check.Failures.Add("the server exited while the disk was full");
            }

            Console.WriteLine($"  disk-full: {check}");
            Scenarios.ThrowIfFailed(check);
            return null;
        }
        finally
        {
            await RunAsync("umount", ["-l", dataDir], CancellationToken.None);
        }
    }

    /// <summary>Runs a call; a dropped connection (no HTTP answer) is recorded as a failure and reported as status 0.</summary>
    private static async Task<(int Status, JsonNode? Body)> CallAsync(List<string> failures, Func<Task<(int, JsonNode?)>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpRequestException e)
        {
            failures.Add($"connection dropped instead of an error response: {e.Message}");
            return (0, null);
        }
    }

    /// <summary>An error answer must be 4xx/5xx with the error envelope, and say nothing about paths or stack frames.</summary>
    private static void Classify(List<string> failures, Dictionary<string, int> errors, string what, int status, JsonNode? body)
    {
        if (status == 0)
        {
            return;
        }

        var error = body as JsonObject is { } o ? o["error"] as JsonObject : null;
        var message = error?["message"]?.GetValue<string>();
        var type = error?["type"]?.GetValue<string>();
        var key = $"{what} {status} {type}/{error?["code"]}";
        errors[key] = errors.GetValueOrDefault(key) + 1;
        if (status < 400 || message is null || type is null)
        {
            failures.Add($"{what}: {status} without the error envelope: {body?.ToJsonString()}");
        }
        else if (status < 500)
        {
            // The disk is the server's problem: a 4xx (e.g. 400 invalid_multipart) would tell the client its request was wrong.
            failures.Add($"{what}: disk full answered as a client error {status}: {body?.ToJsonString()}");
        }
        else if (message.Contains("/tmp", StringComparison.Ordinal) || message.Contains(" at ", StringComparison.Ordinal) || message.Contains("Exception", StringComparison.Ordinal))
        {
            failures.Add($"{what}: the error message leaks internals: {message}");
        }
    }

    /// <summary>Runs a command; null on success, else its output.</summary>
    private static async Task<string?> RunAsync(string file, string[] args, CancellationToken ct)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            var error = await process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            return process.ExitCode == 0 ? null : error;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
