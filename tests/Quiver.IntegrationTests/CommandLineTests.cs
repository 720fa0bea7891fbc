using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Quiver.IntegrationTests.Infrastructure;

namespace Quiver.IntegrationTests;

/// <summary>
/// The real program run as a process, as a new user runs it: help, version, usage errors and start-up
/// failures, each with its output, exit code, and proof that no data directory appeared where nothing was asked.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private static readonly string ServerDll = Path.Combine(AppContext.BaseDirectory, "Quiver.Server.dll");
    private readonly string _workDir = Path.Combine(Path.GetTempPath(), "quiver-tests", "cli-" + Guid.NewGuid().ToString("N"));

    public CommandLineTests() => Directory.CreateDirectory(_workDir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string DefaultDataDir => Path.Combine(_workDir, "quiver-data");

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task Help_lists_every_verb_and_starts_nothing(string flag)
    {
        var run = await RunAsync(flag);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Stdout);
        foreach (var expected in new[] { "serve", "keys", "signing-keys", "ingest", "search", "help", "--version" })
        {
            Assert.Contains(expected, run.Stdout);
        }

        Assert.Equal("", run.Stderr);
        Assert.False(Directory.Exists(DefaultDataDir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_workDir));
    }

    [Fact]
    public async Task Serve_help_names_every_option_its_default_and_environment_variable()
    {
        var run = await RunAsync("serve", "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--urls", run.Stdout);
        Assert.Contains("http://127.0.0.1:8080", run.Stdout);
        Assert.Contains("ASPNETCORE_URLS", run.Stdout);
        Assert.Contains("QUIVER_API_KEY", run.Stdout);
        foreach (var expected in new[] { "--data-dir", "QUIVER_DATA_DIR", "./quiver-data", "--storage", "--connection-string", "ConnectionStrings__Quiver" })
        {
            Assert.Contains(expected, run.Stdout);
        }

        Assert.False(Directory.Exists(DefaultDataDir));
    }

    [Theory]
    [InlineData("keys", "--help")]
    [InlineData("help", "keys")]
    public async Task Keys_help_lists_its_verbs(string first, string second)
    {
        var run = await RunAsync(first, second);

        Assert.Equal(0, run.ExitCode);
        foreach (var verb in new[] { "create", "list", "revoke" })
        {
            Assert.Contains(verb, run.Stdout);
        }

        Assert.False(Directory.Exists(DefaultDataDir));
    }

    [Fact]
    public async Task Keys_create_help_lists_every_option_with_its_default()
    {
        var run = await RunAsync("help", "keys", "create");

        Assert.Equal(0, run.ExitCode);
        foreach (var option in new[] { "--name", "--project", "--admin", "--rate-limit", "10/s,5000/h", "--permission", "--data-dir" })
        {
            Assert.Contains(option, run.Stdout);
        }

        Assert.False(Directory.Exists(DefaultDataDir));
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("-v")]
    public async Task Version_prints_the_version_and_the_default_embedding_model(string flag)
    {
        var run = await RunAsync(flag);

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^Quiver \d+\.\d+\.\d+", run.Stdout);
        Assert.Contains("Default embedding model: local:snowflake-arctic-embed-xs", run.Stdout);
        Assert.False(Directory.Exists(DefaultDataDir));
    }

    [Theory]
    [InlineData("error: Unrecognized command or argument 'frobnicate'.", "frobnicate")]
    [InlineData("error: Unrecognized command or argument '--bogus'.", "--bogus")]
    [InlineData("error: Unrecognized command or argument '--bogus'.", "serve", "--bogus")]
    [InlineData("error: Unrecognized command or argument '--prot=8080'.", "serve", "--prot=8080")]
    [InlineData("error: Unrecognized command or argument '--bogus'.", "keys", "list", "--bogus")]
    [InlineData("error: Unrecognized command or argument 'rotate'.", "keys", "rotate")]
    [InlineData("error: Option '--name' is required.", "keys", "create")]
    [InlineData("error: Required argument missing for option: '--name'.", "keys", "create", "--name")]
    [InlineData("error: Argument 'mysql' not recognized. Must be one of: 'sqlite', 'postgres'", "--storage", "mysql")]
    [InlineData("error: no command 'nope'.", "help", "nope")]
    [InlineData("error: --max-results takes a whole number from 1 to 50, got 'abc'.", "search", "s", "q", "--max-results", "abc")]
    [InlineData("error: --max-results takes a whole number from 1 to 50, got '99999999999'.", "search", "s", "q", "--max-results", "99999999999")]
    [InlineData("error: --parallel takes a whole number from 1 to 32, got 'abc'.", "ingest", ".", "--store", "s", "--parallel", "abc")]
    [InlineData("error: --batch-size takes a whole number from 1 to 2000, got '1.5'.", "ingest", ".", "--store", "s", "--batch-size", "1.5")]
    [InlineData("error: --urls: 'notaurl' is not an address to listen on: expected http://HOST:PORT or https://HOST:PORT.", "serve", "--urls", "notaurl")]
    [InlineData("error: --urls: 'http://127.0.0.1:80xx' is not an address to listen on: the port must be a number from 0 to 65535, not '80xx'.", "--urls", "http://127.0.0.1:80xx")]
    [InlineData("error: --urls: 'http://127.0.0.1:99999' is not an address to listen on: the port must be a number from 0 to 65535, not '99999'.", "--urls", "http://127.0.0.1:99999")]
    [InlineData("error: --urls: 'ftp://127.0.0.1:8080' is not an address to listen on: the scheme must be http or https, not 'ftp'.", "--urls", "http://127.0.0.1:0;ftp://127.0.0.1:8080")]
    [InlineData("error: --urls: 'http://127.0.0.1:8080/api' is not an address to listen on: a listen address has no path, query or user.", "--urls", "http://127.0.0.1:8080/api")]
    [InlineData("error: Unrecognized command or argument '--bogus='.", "--bogus=")]
    [InlineData("error: Required argument missing for option: '--data-dir'.", "keys", "list", "--data-dir=")]
    [InlineData("error: --data-dir must not be empty.", "keys", "list", "--data-dir", "")]
    [InlineData("error: --filter is not valid JSON:", "search", "s", "q", "--filter", "notjson")]
    [InlineData("error: no such file or folder: /nonexistent", "ingest", "/nonexistent", "--store", "s")]
    [InlineData("error: --server must be an http(s) URL, got 'ftp://x'.", "search", "s", "q", "--server", "ftp://x")]
    [InlineData("error: no API key: pass --key or set QUIVER_API_KEY.", "search", "s", "q", "--key", "")]
    [InlineData("error: --attributes takes KEY=VALUE pairs, got 'team'.", "ingest", ".", "--store", "s", "--attributes", "team")]
    public async Task Usage_errors_name_the_problem_print_the_usage_and_exit_2(string firstLine, params string[] args)
    {
        var run = await RunAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith(firstLine, run.Stderr);
        // One error line, then a blank line and the usage of the verb; no stack trace.
        Assert.Equal("", run.Stderr.Split('\n')[1].Trim());
        Assert.Contains("Usage:", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.Equal("", run.Stdout);
        Assert.False(Directory.Exists(DefaultDataDir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_workDir));
    }

    [Theory]
    [InlineData("error: --rate-limit:", "--rate-limit", "5/fortnight")]
    [InlineData("error: Invalid '--permission':", "--permission", "no spaces")]
    [InlineData("error: --name must be 1 to 100 printable ASCII characters.", "--name", "tab\there")]
    [InlineData("error: --name must be 1 to 100 printable ASCII characters.", "--name", "")]
    [InlineData("error: --rate-limit:", "--rate-limit", "bogus")]
    public async Task Keys_create_rejects_a_bad_value_before_opening_any_database(string firstLine, string option, string value)
    {
        string[] args = option == "--name" ? ["keys", "create", option, value] : ["keys", "create", "--name", "ci", option, value];

        var run = await RunAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith(firstLine, run.Stderr);
        Assert.Contains("Usage:", run.Stderr);
        Assert.Contains("keys create", run.Stderr);
        Assert.False(Directory.Exists(DefaultDataDir));
    }

    [Theory]
    [InlineData("--urls http://127.0.0.1:{0}")]
    [InlineData("--Kestrel:Endpoints:A:Url=http://127.0.0.1:{0}")]
    public async Task A_port_in_use_is_one_line_exit_1_and_no_data_directory(string listenArguments)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var dataDir = Path.Combine(_workDir, "data");
        var listen = string.Format(System.Globalization.CultureInfo.InvariantCulture, listenArguments, port).Split(' ');

        var run = await RunAsync(["serve", .. listen, "--data-dir", dataDir]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"quiver: cannot listen on http://127.0.0.1:{port}: the address is already in use. Choose another address with --urls.", run.Stderr.Trim());
        Assert.DoesNotContain("admin API key", run.Stdout);
        Assert.False(Directory.Exists(dataDir));
        Assert.False(Directory.Exists(DefaultDataDir));
    }

    [Theory]
    [InlineData("quiver: invalid listen address in the urls setting (--urls, ASPNETCORE_URLS): 'notaurl' is not an address to listen on", "ASPNETCORE_URLS", "notaurl")]
    [InlineData("quiver: invalid listen address in the urls setting (--urls, ASPNETCORE_URLS): 'http://127.0.0.1:80xx' is not an address to listen on", "ASPNETCORE_URLS", "http://127.0.0.1:80xx")]
    [InlineData("quiver: invalid listen address in Kestrel:Endpoints:A:Url: 'http://127.0.0.1:99999': the port must be a number from 0 to 65535", "Kestrel__Endpoints__A__Url", "http://127.0.0.1:99999")]
    public async Task A_bad_listen_address_from_the_environment_is_one_line_exit_1_and_no_data_directory(string expected, string variable, string value)
    {
        var run = await RunWithAsync(new Dictionary<string, string> { [variable] = value }, "serve");

        Assert.Equal(1, run.ExitCode);
        AssertOneLine(run.Stderr);
        Assert.StartsWith(expected, run.Stderr);
        Assert.DoesNotContain("admin API key", run.Stdout);
        Assert.False(Directory.Exists(DefaultDataDir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_workDir));
    }

    [Fact]
    public async Task An_unwritable_data_directory_is_one_line_and_exit_1()
    {
        // A path under a regular file cannot be created, even by root (CI runs as root, so permissions would not do).
        var blocker = Path.Combine(_workDir, "not-a-directory");
        await File.WriteAllTextAsync(blocker, "x", TestContext.Current.CancellationToken);
        var dataDir = Path.Combine(blocker, "data");

        var run = await RunAsync("serve", "--urls", "http://127.0.0.1:0", "--data-dir", dataDir);

        Assert.Equal(1, run.ExitCode);
        AssertOneLine(run.Stderr);
        Assert.StartsWith("quiver: file system error:", run.Stderr);
        Assert.Contains("--data-dir", run.Stderr);
        Assert.False(Directory.Exists(dataDir));
        Assert.False(Directory.Exists(DefaultDataDir));
        Assert.Equal(["not-a-directory"], Directory.EnumerateFileSystemEntries(_workDir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("quiver: invalid configuration: Quiver:Ingestion:LeaseSeconds must be at least 3.", "--Quiver:Ingestion:LeaseSeconds=1")]
    [InlineData("quiver: Failed to convert configuration value 'many' at 'Quiver:Ingestion:Workers' to type 'System.Int32'.", "--Quiver:Ingestion:Workers=many")]
    [InlineData("quiver: Quiver:Storage:Provider is 'postgres' but ConnectionStrings:Quiver is not set", "--storage", "postgres")]
    [InlineData("quiver: invalid configuration: unknown setting Quiver:Ingestion:Workrs: nothing reads it, so it would be ignored. Did you mean Quiver:Ingestion:Workers?", "--Quiver:Ingestion:Workrs=4")]
    public async Task A_bad_configuration_value_is_one_line_and_exit_1(string expected, params string[] settings)
    {
        var dataDir = Path.Combine(_workDir, "data");

        var run = await RunAsync(["serve", "--urls", "http://127.0.0.1:0", "--data-dir", dataDir, .. settings]);

        Assert.Equal(1, run.ExitCode);
        AssertOneLine(run.Stderr);
        Assert.StartsWith(expected, run.Stderr);
        Assert.False(Directory.Exists(dataDir), "a setting refused at start must leave no data directory behind");
    }

    [Fact]
    public async Task Keys_refuses_an_unknown_setting_before_opening_any_database()
    {
        var run = await RunAsync("keys", "list", "--Quiver:Search:HnswMinChunk=5");

        Assert.Equal(1, run.ExitCode);
        AssertOneLine(run.Stderr);
        Assert.StartsWith("quiver: invalid configuration: unknown setting Quiver:Search:HnswMinChunk: nothing reads it, so it would be ignored. Did you mean Quiver:Search:HnswMinChunks?", run.Stderr);
        Assert.False(Directory.Exists(DefaultDataDir));
    }

    [Theory]
    [InlineData("serve", "--urls", "http://127.0.0.1:0")]
    [InlineData("keys", "list")]
    public async Task An_unreachable_postgresql_is_one_line_and_exit_1(params string[] verb)
    {
        var port = Ports.Free();

        var run = await RunAsync([.. verb, "--storage", "postgres", "--connection-string", $"Host=127.0.0.1;Port={port};Username=quiver;Database=quiver;Timeout=5"]);

        Assert.Equal(1, run.ExitCode);
        AssertOneLine(run.Stderr);
        Assert.StartsWith($"quiver: PostgreSQL is unreachable: Failed to connect to 127.0.0.1:{port}", run.Stderr);
        Assert.False(Directory.Exists(DefaultDataDir));
    }

    [Fact]
    public async Task A_postgresql_without_the_vector_extension_is_one_line_and_exit_1()
    {
        PostgresTestServer.RequireOrSkip();
        var ct = TestContext.Current.CancellationToken;
        // pgvector is not a trusted extension: a database owner who is not superuser cannot create it,
        // which is what an operator meets on a managed server without pgvector enabled.
        var role = "quiver_cli_" + Guid.NewGuid().ToString("N")[..12];
        var (database, _) = PostgresTestServer.CreateDatabase();
        await using (var admin = new NpgsqlConnection(PostgresTestServer.ConnectionString))
        {
            await admin.OpenAsync(ct);
            await using var setup = new NpgsqlCommand(
                $"CREATE ROLE {role} LOGIN PASSWORD 'cli' NOSUPERUSER; ALTER DATABASE {database} OWNER TO {role};", admin);
            await setup.ExecuteNonQueryAsync(ct);
        }

        try
        {
            var connection = new NpgsqlConnectionStringBuilder(PostgresTestServer.ConnectionString) { Database = database, Username = role, Password = "cli" }.ConnectionString;

            var run = await RunAsync("keys", "list", "--storage", "postgres", "--connection-string", connection);

            Assert.Equal(1, run.ExitCode);
            AssertOneLine(run.Stderr);
            Assert.Equal("quiver: PostgreSQL refused to create the 'vector' extension (permission denied to create extension \"vector\"): run CREATE EXTENSION vector once as a superuser.", run.Stderr.Trim());
        }
        finally
        {
            await PostgresTestServer.DropDatabaseAsync(database);
            await using var admin = new NpgsqlConnection(PostgresTestServer.ConnectionString);
            await admin.OpenAsync(ct);
            await using var drop = new NpgsqlCommand($"DROP ROLE IF EXISTS {role}", admin);
            await drop.ExecuteNonQueryAsync(ct);
        }
    }

    [Fact]
    public async Task Keys_create_list_revoke_round_trip_on_sqlite()
    {
        var dataDir = Path.Combine(_workDir, "data");
        await AssertKeysRoundTripAsync(["--data-dir", dataDir]);
        Assert.True(File.Exists(Path.Combine(dataDir, "quiver.db")));
    }

    [Fact]
    public async Task Keys_create_list_revoke_round_trip_on_postgresql()
    {
        PostgresTestServer.RequireOrSkip();
        var (database, connection) = PostgresTestServer.CreateDatabase();
        try
        {
            await AssertKeysRoundTripAsync(["--storage", "postgres", "--connection-string", connection]);
            Assert.False(Directory.Exists(DefaultDataDir));
        }
        finally
        {
            await PostgresTestServer.DropDatabaseAsync(database);
        }
    }

    private async Task AssertKeysRoundTripAsync(string[] storage)
    {
        var created = await RunAsync(["keys", "create", "--name", "ci bot", "--project", "team-a", "--rate-limit", "10/s,5000/h", "--permission", "vector_stores:read", .. storage]);
        Assert.Equal(0, created.ExitCode);
        var lines = created.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Matches(@"^Created key key_\w+ \(name 'ci bot', project 'team-a', rate limit 10/s,5000/h\)\. Its secret is shown only this once:$", lines[0]);
        Assert.StartsWith("qvr_", lines[1]);
        var id = lines[0].Split(' ')[2];

        var listed = await RunAsync(["keys", "list", "--project", "team-a", .. storage]);
        Assert.Equal(0, listed.ExitCode);
        var row = Assert.Single(listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith(id, StringComparison.Ordinal));
        Assert.Contains("10/s,5000/h", row);
        Assert.EndsWith("-", row.TrimEnd());
        Assert.DoesNotContain(lines[1], listed.Stdout);

        var revoked = await RunAsync(["keys", "revoke", id, .. storage]);
        Assert.Equal(0, revoked.ExitCode);
        Assert.Equal($"Revoked {id}.", revoked.Stdout.Trim());

        var again = await RunAsync(["keys", "revoke", id, .. storage]);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"quiver: no active key with id '{id}'; 'keys list' shows the ids.", again.Stderr.Trim());

        var rotated = await RunAsync(["signing-keys", "rotate", .. storage]);
        Assert.Equal(0, rotated.ExitCode);
        var kid = rotated.Stdout.Split(' ')[1];
        var ring = await RunAsync(["signing-keys", "list", .. storage]);
        Assert.Equal(0, ring.ExitCode);
        Assert.Contains($"{kid} ", ring.Stdout.Split('\n')[1]);
    }

    private static void AssertOneLine(string stderr)
    {
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", stderr);
    }


    private sealed record Run(int ExitCode, string Stdout, string Stderr);

    private Task<Run> RunAsync(params string[] args) => RunWithAsync(new Dictionary<string, string>(), args);

    private async Task<Run> RunWithAsync(Dictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ServerDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // What a fresh shell has: none of the settings the test run itself may carry.
        foreach (var name in new[] { "QUIVER_DATA_DIR", "QUIVER_API_KEY", "ASPNETCORE_URLS", "URLS", "ConnectionStrings__Quiver", "Quiver__Storage__Provider" })
        {
            info.Environment.Remove(name);
        }

        info.Environment["QUIVER_API_KEY"] = "cli-test-key";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{string.Join(' ', args)}' did not exit within 90 s (a verb that should stop started a server?)");
        }

        return new Run(process.ExitCode, await stdout, await stderr);
    }
}
