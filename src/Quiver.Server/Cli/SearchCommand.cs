using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace Quiver.Server.Cli;

/// <summary><c>search STORE QUERY</c>: one search against a running server, printed as a table (rank, score, file, text).</summary>
internal static partial class SearchCommand
{
    public static Command Create()
    {
        var store = new Argument<string>("STORE") { Description = "The vector store: its id (vs_...) or its name." };
        var query = new Argument<string>("QUERY") { Description = "What to search for." };
        var maxResults = new Option<int>("--max-results")
        {
            HelpName = "N",
            Description = "Most results, 1 to 50.",
            DefaultValueFactory = _ => 10,
        }.Between(1, 50);
        var filter = new Option<string?>("--filter")
        {
            HelpName = "JSON",
            Description = "An attribute filter as JSON, e.g. '{\"type\":\"eq\",\"key\":\"team\",\"value\":\"a\"}'. Default: none.",
        };
        var command = new Command("search", "Search a vector store on a running server and print the results.") { store, query, maxResults, filter };
        ServerClient.AddOptions(command);
        command.SetAction(async (parsed, ct) =>
        {
            JsonNode? filterNode = null;
            if (parsed.GetValue(filter) is { } filterText)
            {
                try
                {
                    filterNode = JsonNode.Parse(filterText);
                }
                catch (JsonException e)
                {
                    return QuiverCli.UsageError(parsed, $"--filter is not valid JSON: {e.Message}");
                }
            }

            using var client = ServerClient.Create(parsed);
            if (client is null)
            {
                return QuiverCli.ExitUsage;
            }

            return await ServerCommand.RunAsync(client, async () =>
            {
                var storeName = parsed.GetRequiredValue(store);
                if (await StoreResolver.ResolveAsync(client, storeName, createIfMissing: false, ct) is not { } storeId)
                {
                    Console.Error.WriteLine($"quiver: no vector store named '{storeName}'.");
                    return QuiverCli.ExitFailure;
                }

                var body = new JsonObject { ["query"] = parsed.GetRequiredValue(query), ["max_num_results"] = parsed.GetValue(maxResults) };
                if (filterNode is not null)
                {
                    body["filters"] = filterNode;
                }

                var results = (await client.PostAsync($"v1/vector_stores/{storeId}/search", body, ct))["data"]!.AsArray();
                if (results.Count == 0)
                {
                    Console.WriteLine("No results.");
                    return QuiverCli.ExitOk;
                }

                var table = new Table().Border(TableBorder.Rounded)
                    .AddColumn(new TableColumn("#").RightAligned())
                    .AddColumn(new TableColumn("Score").RightAligned())
                    .AddColumn("File")
                    .AddColumn("Text");
                var rank = 0;
                foreach (var result in results)
                {
                    var text = string.Join(' ', result!["content"]!.AsArray().Select(c => c?["text"]?.GetValue<string>() ?? ""));
                    text = Whitespace().Replace(text, " ").Trim();
                    table.AddRow(
                        (++rank).ToString(CultureInfo.InvariantCulture),
                        result["score"]!.GetValue<double>().ToString("0.000", CultureInfo.InvariantCulture),
                        Markup.Escape(result["filename"]?.GetValue<string>() ?? result["file_id"]!.GetValue<string>()),
                        Markup.Escape(text.Length > 160 ? text[..160] + "…" : text));
                }

                AnsiConsole.Write(table);
                return QuiverCli.ExitOk;
            });
        });
        return command;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

/// <summary>What every server-talking verb does with a server that is down or answers with an error: one line, exit 1.</summary>
internal static class ServerCommand
{
    public static async Task<int> RunAsync(ServerClient client, Func<Task<int>> work)
    {
        try
        {
            return await work();
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine($"quiver: cannot reach the server at {client.BaseAddress}: {e.Message} (--server / QUIVER_URL).");
        }
        catch (ServerError e)
        {
            Console.Error.WriteLine($"quiver: the server answered {e.Status}: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"quiver: {e.Message}");
        }

        return QuiverCli.ExitFailure;
    }
}
