namespace Quiver.Server.Cli;

/// <summary>
/// The executable's verbs: <c>serve</c> (the default) and <c>keys create|list|revoke</c>.
/// Translates Quiver's flags into host arguments so standard configuration (environment,
/// appsettings, <c>--Section:Key=value</c>) keeps working alongside them.
/// </summary>
internal static class CommandLine
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    /// <summary>The verb and the arguments the host builder should see.</summary>
    public sealed record Invocation(string Verb, IReadOnlyList<string> VerbArgs, string[] HostArgs);

    public static Invocation Parse(string[] args)
    {
        var verb = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "serve";
        var rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;

        var hostArgs = new List<string>();
        var verbArgs = new List<string>();
        var hasUrls = false;
        var hasDataDir = false;
        for (var i = 0; i < rest.Length; i++)
        {
            var arg = rest[i];
            if (arg is "--data-dir" && i + 1 < rest.Length)
            {
                hostArgs.Add($"--Quiver:DataDir={rest[++i]}");
                hasDataDir = true;
            }
            else if (arg.StartsWith("--data-dir=", StringComparison.Ordinal))
            {
                hostArgs.Add($"--Quiver:DataDir={arg["--data-dir=".Length..]}");
                hasDataDir = true;
            }
            else if (arg is "--urls" && i + 1 < rest.Length)
            {
                hostArgs.Add($"--urls={rest[++i]}");
                hasUrls = true;
            }
            else if (arg.StartsWith("--urls=", StringComparison.Ordinal))
            {
                hostArgs.Add(arg);
                hasUrls = true;
            }
            else if (verb == "serve")
            {
                hostArgs.Add(arg);
            }
            else
            {
                verbArgs.Add(arg);
            }
        }

        if (!hasDataDir && Environment.GetEnvironmentVariable("QUIVER_DATA_DIR") is { Length: > 0 } dataDir)
        {
            hostArgs.Add($"--Quiver:DataDir={dataDir}");
        }

        if (verb == "serve" && !hasUrls
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS"))
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("URLS")))
        {
            hostArgs.Add($"--urls={DefaultUrls}");
        }

        return new Invocation(verb, verbArgs, [.. hostArgs]);
    }
}
