using Quiver.Core.Hosting;
using Quiver.Core.Keys;
using Quiver.Core.Storage.Sqlite;
using Quiver.Server.Auth;

namespace Quiver.Server.Cli;

/// <summary><c>keys create --name NAME [--project P]</c>, <c>keys list</c>, <c>keys revoke ID</c> on the data directory's database.</summary>
internal static class KeysCommand
{
    public static async Task<int> RunAsync(CommandLine.Invocation invocation)
    {
        var args = invocation.VerbArgs;
        if (args.Count == 0)
        {
            return Usage();
        }

        var builder = Host.CreateApplicationBuilder(invocation.HostArgs);
        builder.Logging.ClearProviders();
        builder.AddQuiverCore();
        using var host = builder.Build();
        await host.Services.GetRequiredService<SqliteStorageInitializer>().StartAsync(CancellationToken.None);
        var keys = host.Services.GetRequiredService<IApiKeyStore>();

        switch (args[0])
        {
            case "create":
                var name = Option(args, "--name");
                if (string.IsNullOrWhiteSpace(name))
                {
                    return Usage();
                }

                var project = Option(args, "--project") ?? name;
                var (key, secret) = await keys.CreateAsync(name, project, isAdmin: args.Contains("--admin"), CancellationToken.None);
                Console.WriteLine($"Created key {key.Id} (name '{key.Name}', project '{key.Project}'). Its secret is shown only this once:");
                Console.WriteLine(secret);
                return 0;
            case "list":
                Console.WriteLine($"{"ID",-30} {"NAME",-20} {"PROJECT",-20} {"ADMIN",-6} {"CREATED (UTC)",-20} REVOKED");
                foreach (var k in await keys.ListAsync(CancellationToken.None))
                {
                    Console.WriteLine($"{k.Id,-30} {k.Name,-20} {k.Project,-20} {(k.IsAdmin ? "yes" : "no"),-6} {Format(k.CreatedAt),-20} {(k.RevokedAt is { } r ? Format(r) : "-")}");
                }

                return 0;
            case "revoke" when args.Count == 2:
                if (await keys.RevokeAsync(args[1], CancellationToken.None))
                {
                    Console.WriteLine($"Revoked {args[1]}.");
                    return 0;
                }

                Console.Error.WriteLine($"No active key with id '{args[1]}'. 'keys list' shows the ids.");
                return 1;
            default:
                return Usage();
        }
    }

    private static string? Option(IReadOnlyList<string> args, string name)
    {
        for (var i = 0; i < args.Count - 1; i++)
        {
            if (args[i] == name)
            {
                return args[i + 1];
            }
        }

        return null;
    }

    private static string Format(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    private static int Usage()
    {
        Console.Error.WriteLine($"""
            Usage:
              keys create --name NAME [--project PROJECT] [--admin]   (project defaults to NAME; '{ApiKeyAuthenticationMiddleware.DefaultProject}' is the admin key's)
              keys list
              keys revoke ID
            Options common to all verbs: --data-dir DIR (or QUIVER_DATA_DIR; default ./quiver-data)
            """);
        return 2;
    }
}
