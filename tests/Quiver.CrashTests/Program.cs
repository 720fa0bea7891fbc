using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Npgsql;
using Quiver.CrashTests;

// The crash loop (docs/reliability.md). Usage:
//   dotnet Quiver.CrashTests.dll --server-dll PATH [--kills 10] [--seconds 0] [--files 30] [--seed 15]
//                                [--only sqlite|postgres|pg-restart|disk-full]
// Environment: CRASH_KILLS / CRASH_SECONDS / CRASH_SEED override the defaults; QUIVER_TEST_PG (from
// `. /tmp/quiver-pg/env`) enables the PostgreSQL kill loop (a fresh database per run); CI=true turns a missing
// PostgreSQL into a failure instead of a skip.
var options = Options.Parse(args);
if (!File.Exists(options.ServerDll))
{
    Console.Error.WriteLine($"{options.ServerDll} not found: build src/Quiver.Server first.");
    return 2;
}

var workRoot = Path.Combine(Path.GetTempPath(), "quiver-crash-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
Directory.CreateDirectory(workRoot);
Console.WriteLine($"crash loop: seed {options.Seed}, ≥ {options.Kills} kills and ≥ {options.Seconds} s per backend, ~{options.Files} files per round; work dir {workRoot}");

var results = new List<(string Name, string Outcome, string Detail)>();
var scenarios = new (string Name, Func<string, CancellationToken, Task<string?>> Run)[]
{
    ("sqlite", (dir, ct) => Scenarios.KillLoopAsync(options, Backend.Sqlite(Path.Combine(dir, "data")), dir, ct)),
    ("postgres", (dir, ct) => Scenarios.KillLoopPostgresAsync(options, dir, ct)),
    ("pg-restart", (dir, ct) => Scenarios.PostgresRestartAsync(options, dir, ct)),
    ("disk-full", (dir, ct) => Scenarios.DiskFullAsync(options, dir, ct)),
};
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Seconds * 4 + 900));
foreach (var (name, run) in scenarios.Where(s => options.Only is null || s.Name == options.Only))
{
    var dir = Path.Combine(workRoot, name);
    Directory.CreateDirectory(dir);
    Console.WriteLine($"== {name}");
    var clock = Stopwatch.StartNew();
    try
    {
        var skipped = await run(dir, timeout.Token);
        if (skipped is not null)
        {
            Console.WriteLine($"SKIP {name}: {skipped}");
            results.Add((name, "skip", skipped));
        }
        else
        {
            Console.WriteLine($"PASS {name} ({clock.Elapsed.TotalSeconds:F0} s)");
            results.Add((name, "pass", ""));
        }
    }
    catch (Exception e)
    {
        Console.WriteLine($"FAIL {name} ({clock.Elapsed.TotalSeconds:F0} s): {e.Message}");
        Console.WriteLine($"  server log: {Path.Combine(dir, "server.log")}");
        results.Add((name, "fail", e.Message));
    }
}

var passed = results.Count(r => r.Outcome == "pass");
var failed = results.Count(r => r.Outcome == "fail");
// The totals line .ci/run sums with the test runners' ("Passed: N", "Failed: N", "Skipped: N").
Console.WriteLine($"crash loop: Passed: {passed}, Failed: {failed}, Skipped: {results.Count(r => r.Outcome == "skip")}");
if (failed == 0)
{
    try { Directory.Delete(workRoot, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
}

return failed == 0 ? 0 : 1;

namespace Quiver.CrashTests
{
    internal sealed record Options(string ServerDll, int Kills, int Seconds, int Files, int Seed, string? Only)
    {
        public static Options Parse(string[] args)
        {
            string? Get(string name, string? env)
            {
                var i = Array.IndexOf(args, "--" + name);
                return i >= 0 && i + 1 < args.Length ? args[i + 1] : env is null ? null : Environment.GetEnvironmentVariable(env);
            }

            int Int(string name, string env, int fallback) =>
                Get(name, env) is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

            return new Options(
                Get("server-dll", null) ?? Path.Combine("src", "Quiver.Server", "bin", "Debug", "net10.0", "Quiver.Server.dll"),
                Int("kills", "CRASH_KILLS", 10),
                Int("seconds", "CRASH_SECONDS", 0),
                Int("files", "CRASH_FILES", 30),
                Int("seed", "CRASH_SEED", 15),
                Get("only", null));
        }
    }

    internal static class Scenarios
    {
        public static HttpClient NewClient()
        {
            var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) }) { Timeout = TimeSpan.FromSeconds(60) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.ApiKey);
            return http;
        }

        /// <summary>The kill loop on <paramref name="backend"/>; throws with every broken invariant.</summary>
        public static async Task<string?> KillLoopAsync(Options options, Backend backend, string dir, CancellationToken ct)
        {
            using var http = NewClient();
            await using var server = new ServerProcess(options.ServerDll, backend.Environment, Path.Combine(dir, "server.log"));
            var api = new QuiverApi(http, server);
            await server.StartAsync(http, ct);
            var loop = new CrashLoop(server, api, new Random(options.Seed), Console.Out);
            var clock = Stopwatch.StartNew();
            var storeId = await loop.RunAsync(options.Kills, TimeSpan.FromSeconds(options.Seconds), options.Files, ct);
            var loopSeconds = clock.Elapsed.TotalSeconds;
            var check = await Invariants.CheckAsync(api, backend, storeId, loop.Ledger, TimeSpan.FromSeconds(180), ct);
            Console.WriteLine($"  {backend.Name}: {loop.TotalKills} kills ({string.Join(", ", loop.Kills.Select(k => $"{k.Key} {k.Value}"))}), " +
                $"{server.Starts} starts, {loop.Uploads} uploads, {loop.Ledger.Batches.Count} batches in {loopSeconds:F0} s; {check}");
            ThrowIfFailed(check);
            return null;
        }

        /// <summary>The kill loop on a fresh database of the shared test cluster (<c>QUIVER_TEST_PG</c>), dropped afterwards.</summary>
        public static async Task<string?> KillLoopPostgresAsync(Options options, string dir, CancellationToken ct)
        {
            if (Environment.GetEnvironmentVariable("QUIVER_TEST_PG") is not { Length: > 0 } pg)
            {
                return MissingPostgres("QUIVER_TEST_PG is not set (run `. /tmp/quiver-pg/env`)");
            }

            var database = "quiver_crash_" + Guid.NewGuid().ToString("N")[..12];
            var admin = new NpgsqlConnectionStringBuilder(pg) { Pooling = false }.ToString();
            await ExecuteAsync(admin, $"CREATE DATABASE {database}", ct);
            try
            {
                var connection = new NpgsqlConnectionStringBuilder(pg) { Database = database, MaxPoolSize = 40 }.ToString();
                return await KillLoopAsync(options, Backend.Postgres(Path.Combine(dir, "data"), connection), dir, ct);
            }
            finally
            {
                NpgsqlConnection.ClearAllPools();
                await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)", CancellationToken.None);
            }
        }

        /// <summary>
        /// PostgreSQL restarted twice under a running batch (once <c>immediate</c>, a crash; once <c>fast</c>) while
        /// the Quiver process keeps running: its workers must recover on their own and lose nothing.
        /// </summary>
        public static async Task<string?> PostgresRestartAsync(Options options, string dir, CancellationToken ct)
        {
            if (PostgresCluster.FindBin() is not { } bin)
            {
                return MissingPostgres("no PostgreSQL binaries under /usr/lib/postgresql (run .ci/postgres.sh)");
            }

            await using var cluster = await PostgresCluster.CreateAsync(bin, dir, ct);
            var backend = Backend.Postgres(Path.Combine(dir, "data"), cluster.ConnectionString);
            using var http = NewClient();
            await using var server = new ServerProcess(options.ServerDll, backend.Environment, Path.Combine(dir, "server.log"));
            var api = new QuiverApi(http, server);
            await server.StartAsync(http, ct);
            var random = new Random(options.Seed);
            var ledger = new Ledger();
            var storeId = (string)(await api.RequireAsync(HttpMethod.Post, "/v1/vector_stores", new System.Text.Json.Nodes.JsonObject { ["name"] = "pg-restart" }, ct))["id"]!;
            var restarts = 0;
            var clock = Stopwatch.StartNew();
            foreach (var mode in new[] { "immediate", "fast" })
            {
                var batchId = await Workload.UploadAndBatchAsync(api, storeId, ledger, random, options.Files * 4, ct);
                await Workload.WaitForProgressAsync(api, storeId, batchId, ct);
                await cluster.RestartAsync(mode, ct);
                restarts++;
                Console.WriteLine($"  PostgreSQL restarted ({mode}) under batch {batchId}");
                // The same process must serve again once the database is back (its pool drops the dead connections).
                await Workload.UntilAsync(async () => (await api.SendAsync(HttpMethod.Get, $"/v1/vector_stores/{storeId}", ct: ct)).Status == 200, TimeSpan.FromSeconds(60), ct);
            }

            var check = await Invariants.CheckAsync(api, backend, storeId, ledger, TimeSpan.FromSeconds(180), ct);
            if (!server.IsRunning)
            {
                check.Failures.Add("the Quiver process exited while PostgreSQL restarted");
            }

            Console.WriteLine($"  pg-restart: {restarts} restarts, {ledger.Phrases.Count} uploads in {clock.Elapsed.TotalSeconds:F0} s; {check}");
            ThrowIfFailed(check);
            NpgsqlConnection.ClearAllPools();
            return null;
        }

        public static Task<string?> DiskFullAsync(Options options, string dir, CancellationToken ct) => DiskFull.RunAsync(options, dir, ct);

        public static void ThrowIfFailed(CheckResult check)
        {
            if (check.Failures.Count > 0)
            {
                foreach (var failure in check.Failures.Take(40))
                {
                    Console.WriteLine("  ✗ " + failure);
                }

                throw new InvalidOperationException($"{check.Failures.Count} invariant(s) broken (first: {check.Failures[0]})");
            }
        }

        private static string MissingPostgres(string why) =>
            Environment.GetEnvironmentVariable("CI") == "true" ? throw new InvalidOperationException(why + "; CI=true requires PostgreSQL") : why;

        private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken ct)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
