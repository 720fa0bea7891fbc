using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Quiver.CrashTests;

/// <summary>
/// The real server (<c>dotnet Quiver.Server.dll</c>) as a child process on a loopback port, restartable on the
/// same data: <see cref="KillAsync"/> is SIGKILL (<c>kill -9</c>), no shutdown hooks run.
/// Its stdout/stderr are appended to <c>server.log</c> in the work directory.
/// </summary>
internal sealed class ServerProcess(string serverDll, IReadOnlyDictionary<string, string> environment, string logPath) : IAsyncDisposable
{
    public const string ApiKey = "crash-loop-key";

    private readonly int _port = FreePort();
    private readonly Lock _logLock = new();
    private Process? _process;

    public Uri BaseAddress => new($"http://127.0.0.1:{_port}");

    public int Starts { get; private set; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the process and waits until <c>/readyz</c> answers 200.</summary>
    public async Task StartAsync(HttpClient http, CancellationToken ct)
    {
        var start = new ProcessStartInfo("dotnet", [serverDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["QUIVER_API_KEY"] = ApiKey;
        start.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Quiver"] = "Information";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        Starts++;
        Log($"---- start #{Starts}, pid {process.Id}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Log(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with code {process.ExitCode} during start-up; see {logPath}.");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "/readyz"), ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }

            await Task.Delay(100, ct);
        }

        throw new TimeoutException($"The server did not become ready within 90 s; see {logPath}.");
    }

    /// <summary>SIGKILL, then waits for the process to be gone.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            Log($"---- killed pid {process.Id}");
            process.Dispose();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    private void Log(string line)
    {
        lock (_logLock)
        {
            File.AppendAllText(logPath, line + Environment.NewLine);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
