using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Quiver.CrashTests;

/// <summary>
/// A throwaway PostgreSQL cluster of the crash loop's own (initdb in a temp directory, loopback, trust auth),
/// made with the binaries <c>.ci/postgres.sh</c> installs, so it can be restarted under a running batch without
/// disturbing anyone else using the shared test cluster. As root, the server runs as user <c>postgres</c>.
/// </summary>
internal sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dir;
    private readonly int _port;

    private PostgresCluster(string bin, string dir, int port)
    {
        _bin = bin;
        _dir = dir;
        _port = port;
    }

    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=quiver_crash;Maximum Pool Size=40";

    /// <summary>The directory of <c>pg_ctl</c>: <c>$PG_BIN</c>, else the newest <c>/usr/lib/postgresql/*/bin</c>; null when none.</summary>
    public static string? FindBin()
    {
        if (Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } configured)
        {
            return configured;
        }

        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).OrderDescending(StringComparer.Ordinal).FirstOrDefault()
            : null;
    }

    public static async Task<PostgresCluster> CreateAsync(string bin, string workDir, CancellationToken ct)
    {
        var dir = Path.Combine(workDir, "pg");
        Directory.CreateDirectory(dir);
        if (Environment.UserName == "root")
        {
            await RunAsync("chown", ["-R", "postgres:postgres", dir], asPostgres: false, ct);
        }

        var cluster = new PostgresCluster(bin, dir, FreePort());
        await cluster.PgAsync("initdb", ["-D", cluster.Data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], ct);
        await cluster.PgCtlAsync(["start", "-o", $"-c listen_addresses=127.0.0.1 -p {cluster._port} -k {dir} -c fsync=off -c max_connections=100"], ct);
        var admin = new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = "postgres", Pooling = false }.ToString();
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("CREATE DATABASE quiver_crash", connection);
        await command.ExecuteNonQueryAsync(ct);
        return cluster;
    }

    private string Data => Path.Combine(_dir, "data");

    /// <summary>Restarts the cluster: <c>immediate</c> is a crash (no checkpoint, clients cut), <c>fast</c> a clean stop.</summary>
    public Task RestartAsync(string mode, CancellationToken ct) => PgCtlAsync(["restart", "-m", mode], ct);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await PgCtlAsync(["stop", "-m", "immediate"], CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private Task PgCtlAsync(string[] args, CancellationToken ct) =>
        PgAsync("pg_ctl", ["-D", Data, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60", .. args], ct);

    private Task PgAsync(string tool, string[] args, CancellationToken ct) => RunAsync(Path.Combine(_bin, tool), args, asPostgres: true, ct);

    private static async Task RunAsync(string file, string[] args, bool asPostgres, CancellationToken ct)
    {
        var root = Environment.UserName == "root";
        var start = asPostgres && root
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. args])
            : new ProcessStartInfo(file, args);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited {process.ExitCode}: {await output}{await error}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
