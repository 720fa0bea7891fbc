using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Quiver.Core.Embeddings;

namespace Quiver.Server.Cli;

/// <summary>
/// The executable's one parser (System.CommandLine) for every verb: <c>serve</c> (the default), <c>keys …</c>,
/// <c>signing-keys …</c>, <c>ingest</c>, <c>search</c> and <c>help</c>. Owns help, <c>--version</c>, usage errors (exit 2) and the
/// translation of Quiver's options into host configuration; each verb's work lives in its own *Command class.
/// Nothing here touches a data directory: <c>--help</c> and bad usage return before any host is built.
/// </summary>
internal static partial class QuiverCli
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;
    public const string DefaultUrls = "http://127.0.0.1:8080";
    public const string DefaultDataDir = "./quiver-data";

    private static readonly string[] ProgramFlags = ["--help", "-h", "-?", "/?", "/h", "--version", "-v"];

    /// <summary>
    /// Standard .NET configuration given on the command line, accepted by every verb in exactly two forms:
    /// <c>--Section:Key=value</c> (a colon-separated key and <c>=</c>, e.g. <c>--Quiver:Ingestion:Workers=4</c>)
    /// and the host's own <c>--environment=</c>, <c>--contentRoot=</c>, <c>--applicationName=</c> and
    /// <c>--QUIVER_…=</c>, and the bare name of a configuration section the program reads, with an empty value
    /// (<c>--Quiver=</c>, <c>--ConnectionStrings=</c>, <c>--Logging=</c>, <c>--Kestrel=</c>, <c>--AllowedHosts=</c>):
    /// the forms in which the ASP.NET Core test host hands its settings to the program.
    /// Anything else is a usage error, so a mistyped option cannot turn into a silently ignored setting, and an
    /// option with an empty value (<c>--data-dir=</c>) reaches the parser.
    /// </summary>
    [GeneratedRegex(@"^--([A-Za-z][A-Za-z0-9_.-]*(:[A-Za-z0-9_.-]+)+|environment|contentRoot|applicationName|QUIVER_[A-Z0-9_]+)=|^--(Quiver|ConnectionStrings|Logging|Kestrel|AllowedHosts)=$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ConfigurationArgument();

    // Options of the verbs that open storage (Recursive: accepted after their subcommands too).
    internal static readonly Option<string?> DataDir = new Option<string?>("--data-dir")
    {
        HelpName = "DIR",
        Recursive = true,
        Description = $"Data directory: SQLite database, file bytes, indexes. Default {DefaultDataDir}; env QUIVER_DATA_DIR (or Quiver__DataDir).",
    }.NotEmpty();

    internal static readonly Option<string?> Storage = new Option<string?>("--storage")
    {
        HelpName = "sqlite|postgres",
        Recursive = true,
        Description = "Storage backend. Default sqlite; env Quiver__Storage__Provider.",
    }.AcceptOnlyFromAmong("sqlite", "postgres");

    internal static readonly Option<string?> ConnectionString = new Option<string?>("--connection-string")
    {
        HelpName = "CONN",
        Recursive = true,
        Description = "PostgreSQL connection string for --storage postgres (Host=...;Database=...;Username=...). "
            + "Env ConnectionStrings__Quiver, which keeps a password out of the process list.",
    }.NotEmpty();

    private static readonly Option<bool> Version = new("--version", "-v") { Description = "Print the version and the default embedding model, then exit." };

    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var configuration = args.Where(a => ConfigurationArgument().IsMatch(a)).ToList();
        string[] tokens = [.. args.Where(a => !ConfigurationArgument().IsMatch(a))];
        // No verb means serve: `Quiver.Server --urls ...` starts the server as it always did.
        if (tokens.Length == 0 || (tokens[0].StartsWith('-') && !ProgramFlags.Contains(tokens[0])))
        {
            tokens = ["serve", .. tokens];
        }

        var root = Build(configuration);
        var result = root.Parse(tokens);
        if (result.Action is HelpAction)
        {
            return InvokeHelp(result, Console.Out);
        }

        if (result.Errors.Count > 0)
        {
            // The most telling error first: a token nobody expected explains the rest (e.g. a missing subcommand).
            var error = result.Errors.FirstOrDefault(e => result.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))) ?? result.Errors[0];
            return UsageError(result, OneLine(error.Message));
        }

        // The host handles SIGINT/SIGTERM itself (graceful drain); the parser must not cut that short.
        return await result.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    private static RootCommand Build(IReadOnlyList<string> configuration)
    {
        var root = new RootCommand(
            "Quiver: a self-hosted vector store speaking the MKA1 and OpenAI Vector Stores APIs.\n"
            + "Without a command it runs 'serve'. Settings can also be given as --Section:Key=value "
            + "(e.g. --Quiver:Ingestion:Workers=4) or as environment variables (Quiver__Ingestion__Workers=4); see docs/deployment.md.");
        // --version is ours: the built-in one prints only the assembly version.
        foreach (var builtIn in root.Options.OfType<VersionOption>().ToList())
        {
            root.Options.Remove(builtIn);
        }

        root.Options.Add(Version);
        // The storage options belong to the verbs that open storage; ingest and search talk to a server.
        foreach (var command in new[] { ServeCommand.Create(configuration), KeysCommand.Create(configuration), SigningKeysCommand.Create(configuration) })
        {
            command.Options.Add(DataDir);
            command.Options.Add(Storage);
            command.Options.Add(ConnectionString);
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(IngestCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());

        var helpVerb = new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore, Description = "The command to describe, e.g. 'keys create'." };
        var help = new Command("help", "Print help for the program or for a command.") { helpVerb };
        help.SetAction(parsed =>
        {
            var path = parsed.GetValue(helpVerb) ?? [];
            Command? current = root;
            foreach (var name in path)
            {
                current = current?.Subcommands.FirstOrDefault(c => c.Name == name);
            }

            if (current is null)
            {
                Console.Error.WriteLine($"error: no command '{string.Join(' ', path)}'.");
                Console.Error.WriteLine();
                WriteHelp(root, [], Console.Error);
                return ExitUsage;
            }

            return InvokeHelp(root.Parse([.. path, "--help"]), Console.Out);
        });
        root.Subcommands.Add(help);

        root.SetAction(parsed =>
        {
            if (parsed.GetValue(Version))
            {
                var version = typeof(QuiverCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
                Console.WriteLine($"Quiver {version.Split('+')[0]}");
                Console.WriteLine($"Default embedding model: {EmbeddingDefaults.DefaultModelId} (local ONNX, shipped with the server)");
                return ExitOk;
            }

            WriteHelp(root, [], Console.Out);
            return ExitOk;
        });
        return root;
    }

    /// <summary>
    /// The host builder's arguments for a verb: the <c>--Section:Key=value</c> settings given, then Quiver's
    /// options as configuration keys. Nothing is added for an option not given, so environment variables and
    /// appsettings keep working (command-line configuration overrides them).
    /// </summary>
    public static List<string> HostArguments(ParseResult parsed, IReadOnlyList<string> configuration)
    {
        var hostArgs = new List<string>(configuration);
        var dataDir = parsed.GetValue(DataDir) ?? NonEmpty(Environment.GetEnvironmentVariable("QUIVER_DATA_DIR"));
        if (dataDir is not null)
        {
            hostArgs.Add($"--Quiver:DataDir={dataDir}");
        }

        if (parsed.GetValue(Storage) is { } storage)
        {
            hostArgs.Add($"--Quiver:Storage:Provider={storage}");
        }

        if (parsed.GetValue(ConnectionString) is { } connection)
        {
            hostArgs.Add($"--ConnectionStrings:Quiver={connection}");
        }

        return hostArgs;
    }

    /// <summary>
    /// A usage error found after parsing (a value the parser accepted but the verb cannot use): the same
    /// output as the parser's own, one <c>error:</c> line then the usage of the verb, on stderr; exit 2.
    /// </summary>
    public static int UsageError(ParseResult parsed, string problem)
    {
        Console.Error.WriteLine($"error: {problem}");
        Console.Error.WriteLine();
        WriteHelp((RootCommand)parsed.RootCommandResult.Command, CommandPath(parsed), Console.Error);
        return ExitUsage;
    }

    /// <summary>A whole-number option from <paramref name="min"/> to <paramref name="max"/>: anything else (abc, 1.5, an overflow) is a usage error.</summary>
    public static Option<int> Between(this Option<int> option, int min, int max)
    {
        option.CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            r.AddError($"{option.Name} takes a whole number from {min} to {max}, got '{text}'.");
            return default;
        };
        return option;
    }

    /// <summary>An option whose value must not be empty (<c>--data-dir=</c>, <c>--data-dir ""</c>).</summary>
    public static Option<string?> NotEmpty(this Option<string?> option)
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value)))
            {
                r.AddError($"{option.Name} must not be empty.");
            }
        });
        return option;
    }

    /// <summary>The parser's multi-line messages (e.g. "Must be one of:" and a value per line) as one line.</summary>
    private static string OneLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length <= 1 ? message.Trim() : $"{lines[0]} {string.Join(", ", lines[1..])}";
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string[] CommandPath(ParseResult result)
    {
        var path = new List<string>();
        for (var command = result.CommandResult; command.Parent is System.CommandLine.Parsing.CommandResult parent; command = parent)
        {
            path.Insert(0, command.Command.Name);
        }

        return [.. path];
    }

    private static void WriteHelp(RootCommand root, string[] path, TextWriter writer) => InvokeHelp(root.Parse([.. path, "--help"]), writer);

    /// <summary>
    /// Prints the help of a parse that asked for it. The parser lists the help verb as "help &lt;command&gt;",
    /// as if the command were required; it is optional, so the listing says "help [command]" (same width).
    /// </summary>
    private static int InvokeHelp(ParseResult helpParse, TextWriter writer)
    {
        using var text = new StringWriter();
        var exit = helpParse.Invoke(new InvocationConfiguration { Output = text });
        writer.Write(text.ToString().Replace("  help <command>  ", "  help [command]  ", StringComparison.Ordinal));
        return exit;
    }
}
