using System.CommandLine;
using System.Globalization;
using Quiver.Core.Errors;
using Quiver.Core.Hosting;
using Quiver.Core.Keys;
using Quiver.Core.Storage;
using Quiver.Server.Auth;
using Quiver.Server.Endpoints;

namespace Quiver.Server.Cli;

/// <summary>
/// <c>keys create|list|revoke</c>: API keys in the configured database (SQLite data directory or PostgreSQL),
/// safe to run while servers use it. The same operations exist over HTTP for admin keys (<c>/api/v1/admin/keys</c>).
/// </summary>
internal static class KeysCommand
{
    public static Command Create(IReadOnlyList<string> configuration)
    {
        var name = new Option<string>("--name") { HelpName = "NAME", Required = true, Description = "A label for operators: 1-100 printable ASCII characters." };
        var project = new Option<string?>("--project")
        {
            HelpName = "PROJECT",
            Description = $"The project whose objects the key sees. Default: the name. '{ApiKeyAuthenticationMiddleware.DefaultProject}' is the project of QUIVER_API_KEY and the first admin key.",
        };
        var admin = new Option<bool>("--admin") { Description = "The key may administer keys and signing keys over HTTP (/api/v1/admin). Default: no." };
        var rateLimit = new Option<string?>("--rate-limit")
        {
            HelpName = "SPEC",
            Description = "Request limits, comma-separated windows per second/minute/hour/day, e.g. 10/s,5000/h. Default: none.",
        };
        var permissions = new Option<string[]>("--permission")
        {
            HelpName = "PERMISSION",
            Description = "A permission the key may put into exchanged tokens ('*' = any); repeat for several. Default: none.",
        };
        var create = new Command("create", "Create a key and print its secret (shown only this once).") { name, project, admin, rateLimit, permissions };
        create.SetAction(async (parsed, ct) =>
        {
            // Every value is checked before the database is opened: a typo changes nothing.
            var keyName = parsed.GetRequiredValue(name);
            var keyProject = parsed.GetValue(project) ?? keyName;
            if (keyName.Length is 0 or > AdminEndpoints.MaxNameLength || !AdminEndpoints.IsPrintable(keyName))
            {
                return QuiverCli.UsageError(parsed, $"--name must be 1 to {AdminEndpoints.MaxNameLength} printable ASCII characters.");
            }

            if (keyProject.Length is 0 or > AdminEndpoints.MaxNameLength || !AdminEndpoints.IsPrintable(keyProject))
            {
                return QuiverCli.UsageError(parsed, $"--project must be 1 to {AdminEndpoints.MaxNameLength} printable ASCII characters.");
            }

            if (!RateLimitPolicy.TryParse(parsed.GetValue(rateLimit), out var limit, out var limitError))
            {
                return QuiverCli.UsageError(parsed, $"--rate-limit: {limitError}");
            }

            IReadOnlyList<string> keyPermissions;
            try
            {
                keyPermissions = KeyPermissions.Validate(parsed.GetValue(permissions) ?? [], "--permission");
            }
            catch (ApiException e)
            {
                return QuiverCli.UsageError(parsed, e.Message);
            }

            var request = new NewApiKey(keyName, keyProject, parsed.GetValue(admin), limit, keyPermissions);
            return await RunAsync(parsed, configuration, async keys =>
            {
                var (key, secret) = await keys.CreateAsync(request, ct);
                Console.WriteLine($"Created key {key.Id} (name '{key.Name}', project '{key.Project}'{(key.IsAdmin ? ", admin" : "")}"
                    + $"{(key.Limits.IsNone ? "" : $", rate limit {key.Limits}")}). Its secret is shown only this once:");
                Console.WriteLine(secret);
                return QuiverCli.ExitOk;
            });
        });

        var listProject = new Option<string?>("--project") { HelpName = "PROJECT", Description = "Only the keys of this project. Default: all." };
        var list = new Command("list", "List keys, newest first, revoked ones included (secrets are never stored).") { listProject };
        list.SetAction((parsed, ct) => RunAsync(parsed, configuration, async keys =>
        {
            var only = parsed.GetValue(listProject);
            Console.WriteLine($"{"ID",-30} {"NAME",-20} {"PROJECT",-20} {"ADMIN",-6} {"RATE LIMIT",-16} {"CREATED (UTC)",-20} REVOKED");
            foreach (var k in await keys.ListAsync(ct))
            {
                if (only is null || k.Project == only)
                {
                    Console.WriteLine($"{k.Id,-30} {k.Name,-20} {k.Project,-20} {(k.IsAdmin ? "yes" : "no"),-6} {(k.Limits.IsNone ? "-" : k.Limits.ToString()),-16} "
                        + $"{Format(k.CreatedAt),-20} {(k.RevokedAt is { } r ? Format(r) : "-")}");
                }
            }

            return QuiverCli.ExitOk;
        }));

        var id = new Argument<string>("ID") { Description = "The key's id (key_...), as 'keys list' shows it." };
        var revoke = new Command("revoke", "Revoke a key: requests with it get 401 from the next request on, in every process.") { id };
        revoke.SetAction((parsed, ct) => RunAsync(parsed, configuration, async keys =>
        {
            var keyId = parsed.GetRequiredValue(id);
            if (await keys.RevokeAsync(keyId, ct))
            {
                Console.WriteLine($"Revoked {keyId}.");
                return QuiverCli.ExitOk;
            }

            Console.Error.WriteLine($"quiver: no active key with id '{keyId}'; 'keys list' shows the ids.");
            return QuiverCli.ExitFailure;
        }));

        return new Command("keys", "Create, list and revoke API keys in the configured database (works beside a running server).") { create, list, revoke };
    }

    /// <summary>Runs <paramref name="work"/> against the configured storage, schema migrated, without starting any server component.</summary>
    internal static async Task<int> RunWithStorageAsync<TService>(ParseResult parsed, IReadOnlyList<string> configuration, Func<TService, Task<int>> work)
        where TService : notnull
    {
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
            {
                Args = [.. QuiverCli.HostArguments(parsed, configuration)],
                ContentRootPath = AppContext.BaseDirectory,
            });
            builder.Logging.ClearProviders();
            builder.AddQuiverCore();
            using var host = builder.Build();
            SettingsCheck.ThrowIfUnknown(builder.Configuration);
            await host.Services.GetRequiredService<IStorageMigrator>().MigrateAsync(CancellationToken.None);
            return await work(host.Services.GetRequiredService<TService>());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return StartupFailure.Report(e);
        }
    }

    private static Task<int> RunAsync(ParseResult parsed, IReadOnlyList<string> configuration, Func<IApiKeyStore, Task<int>> work) =>
        RunWithStorageAsync(parsed, configuration, work);

    private static string Format(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
