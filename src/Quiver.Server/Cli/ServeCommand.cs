using System.CommandLine;
using Quiver.Core.Hosting;
using Quiver.Server.Hosting;

namespace Quiver.Server.Cli;

/// <summary><c>serve</c>: runs the HTTP server until Ctrl-C / SIGTERM; a failure to start is one plain line and exit 1.</summary>
internal static class ServeCommand
{
    private static readonly Option<string?> Urls = CreateUrls();

    private static Option<string?> CreateUrls()
    {
        var urls = new Option<string?>("--urls")
        {
            HelpName = "URLS",
            Description = $"Addresses to listen on, ';'-separated, each http(s)://HOST[:PORT] (HOST a name, an IP, [IPv6], * or +). "
                + $"Default {QuiverCli.DefaultUrls} (loopback only); env ASPNETCORE_URLS.",
        };
        urls.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && ListenPreflight.FindInvalid(r.Tokens[^1].Value) is { } problem)
            {
                r.AddError($"--urls: {problem}.");
            }
        });
        return urls;
    }

    public static Command Create(IReadOnlyList<string> configuration)
    {
        var serve = new Command("serve",
            "Run the server (the default command). The API key comes from QUIVER_API_KEY; without it and without keys "
            + "in the database, an admin key is created and printed once. Settings: --Section:Key=value or environment "
            + "variables (docs/deployment.md), e.g. --Quiver:Ingestion:Workers=4.")
        {
            Urls,
        };
        serve.SetAction((parsed, ct) => RunAsync(parsed, configuration, ct));
        return serve;
    }

    private static async Task<int> RunAsync(ParseResult parsed, IReadOnlyList<string> configuration, CancellationToken ct)
    {
        var hostArgs = QuiverCli.HostArguments(parsed, configuration);
        var urls = parsed.GetValue(Urls);
        if (urls is not null
            || (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("URLS"))))
        {
            urls ??= QuiverCli.DefaultUrls;
            hostArgs.Add($"--urls={urls}");
        }

        var startup = new StartupGate();
        WebApplication app;
        try
        {
            // appsettings.json sits beside the program: found wherever the server is started from.
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions
            {
                Args = [.. hostArgs],
                ContentRootPath = hostArgs.Any(a => a.StartsWith("--contentRoot=", StringComparison.OrdinalIgnoreCase)) ? null : AppContext.BaseDirectory,
            });
            startup.Attach(builder.Logging);
            builder.AddQuiverCore();
            builder.AddQuiverServer();
            app = builder.Build();
            app.Lifetime.ApplicationStarted.Register(startup.Open);
            app.UseQuiverServer();
        }
        catch (Exception e) when (e is not HostAbortedException)
        {
            // HostAbortedException is the test host (WebApplicationFactory) taking over the built app: let it pass.
            return StartupFailure.Report(e);
        }

        await using (app)
        {
            // After Build (where the test host takes over), before anything touches the data directory: an address
            // from the environment or configuration that is not valid, or one that is taken, is one line.
            var (listen, invalid) = ListenPreflight.Configured(app.Configuration);
            if (invalid is not null)
            {
                Console.Error.WriteLine($"quiver: {invalid}");
                return QuiverCli.ExitFailure;
            }

            if (ListenPreflight.FindTaken(listen) is { } taken)
            {
                Console.Error.WriteLine($"quiver: {taken}");
                return QuiverCli.ExitFailure;
            }

            try
            {
                // The host validates options only after it has built its hosted services, and building them creates
                // the data directory; a bad or unknown setting must fail before that and leave nothing behind.
                SettingsCheck.ThrowIfUnknown(app.Configuration);
                app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
                await app.StartAsync(ct);
            }
            catch (Exception e)
            {
                return StartupFailure.Report(e);
            }

            await app.WaitForShutdownAsync(CancellationToken.None);
            return QuiverCli.ExitOk;
        }
    }
}
