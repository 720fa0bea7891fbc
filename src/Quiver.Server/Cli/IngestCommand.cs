using System.Collections.Concurrent;
using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.FileSystemGlobbing;
using Spectre.Console;

namespace Quiver.Server.Cli;

/// <summary>
/// <c>ingest PATH --store NAME|ID</c>: walks a folder, uploads its files in parallel, attaches them as file
/// batches, and waits with live per-status counts; a summary table ends it. Resumable: a file already in the
/// store with the same name and content (SHA-256, compared with the stored bytes) is skipped, and one that
/// failed or was cancelled there is attached again without a new upload. Ctrl-C (or SIGTERM) cancels the
/// running batches and waits until they stop; uploads not yet attached are deleted, so nothing is left half done.
/// </summary>
internal static class IngestCommand
{
    public const int ExitInterrupted = 130;

    /// <summary>The server's per-batch limit of <c>file_ids</c> / <c>files</c> (docs/cli.md; the API refuses more with array_above_max_length).</summary>
    public const int DefaultBatchSize = Contracts.CreateFileBatchRequest.MaxFiles;

    private sealed record LocalFile(string Path, string Name, long Bytes);

    private sealed record Plan(List<LocalFile> Upload, List<(LocalFile File, string FileId)> Reattach, List<LocalFile> Skipped);

    private sealed class Outcome
    {
        public ConcurrentDictionary<string, LocalFile> ByFileId { get; } = new(StringComparer.Ordinal);

        public ConcurrentBag<(LocalFile File, string Code, string Reason)> UploadFailures { get; } = [];

        public List<string> Batches { get; } = [];

        public Dictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);

        public List<(LocalFile File, string Code, string Reason)> Failed { get; } = [];
    }

    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "A folder (walked recursively) or a single file." };
        var store = new Option<string>("--store")
        {
            HelpName = "NAME|ID",
            Required = true,
            Description = "The vector store: its id (vs_...) or its name; a store of that name is created when none exists.",
        };
        var attributes = new Option<string[]>("--attributes")
        {
            HelpName = "KEY=VALUE",
            AllowMultipleArgumentsPerToken = true,
            Description = "Attributes for every file, e.g. --attributes team=a year=2024 draft=false (true/false and numbers are typed). Default: none.",
        };
        var include = new Option<string[]>("--include")
        {
            HelpName = "GLOB",
            AllowMultipleArgumentsPerToken = true,
            Description = "Only files matching these globs, relative to PATH, e.g. --include '**/*.md' '**/*.pdf'. Default: every file.",
        };
        var parallel = new Option<int>("--parallel")
        {
            HelpName = "N",
            Description = "Uploads at once, 1 to 32.",
            DefaultValueFactory = _ => 4,
        }.Between(1, 32);
        var batchSize = new Option<int>("--batch-size")
        {
            HelpName = "N",
            Description = $"Files per batch, 1 to {DefaultBatchSize}. The default is the per-batch limit Quiver documents; "
                + "the server does not advertise its limit, so a server with a lower one refuses larger batches.",
            DefaultValueFactory = _ => DefaultBatchSize,
        }.Between(1, DefaultBatchSize);

        var command = new Command("ingest", "Upload a folder into a vector store as file batches, with live progress, a summary, and resume.")
        {
            path, store, attributes, include, parallel, batchSize,
        };
        ServerClient.AddOptions(command);
        command.SetAction(async (parsed, _) =>
        {
            var root = Path.GetFullPath(parsed.GetRequiredValue(path));
            if (!Directory.Exists(root) && !File.Exists(root))
            {
                return QuiverCli.UsageError(parsed, $"no such file or folder: {root}");
            }

            if (!TryParseAttributes(parsed.GetValue(attributes) ?? [], out var attributeObject, out var attributeError))
            {
                return QuiverCli.UsageError(parsed, attributeError);
            }

            using var client = ServerClient.Create(parsed);
            if (client is null)
            {
                return QuiverCli.ExitUsage;
            }

            using var interrupted = new CancellationTokenSource();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
            try
            {
                return await ServerCommand.RunAsync(client, () => RunAsync(
                    client, root, parsed.GetRequiredValue(store), attributeObject, parsed.GetValue(include) ?? [],
                    parsed.GetValue(parallel), parsed.GetValue(batchSize), interrupted.Token));
            }
            catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
            {
                Console.WriteLine("Interrupted while checking the store: nothing was uploaded or attached.");
                return ExitInterrupted;
            }

            void Interrupt(PosixSignalContext context)
            {
                context.Cancel = true;
                interrupted.Cancel();
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(
        ServerClient client, string root, string storeName, JsonObject attributes, string[] include, int parallel, int batchSize, CancellationToken interrupted)
    {
        var files = Walk(root, include);
        if (files.Count == 0)
        {
            Console.Error.WriteLine($"quiver: no files to ingest under {root}{(include.Length > 0 ? $" matching {string.Join(' ', include)}" : "")}.");
            return QuiverCli.ExitFailure;
        }

        var storeId = await StoreResolver.ResolveAsync(client, storeName, createIfMissing: true, CancellationToken.None)
            ?? throw new InvalidOperationException(
                $"no vector store with the id or name '{storeName}'; a store is created only for a name, never for an id (vs_...).");
        AnsiConsole.MarkupLine($"Ingesting [bold]{files.Count}[/] files from {Markup.Escape(root)} into [bold]{Markup.Escape(storeName)}[/] ({storeId}).");

        if (Console.IsOutputRedirected)
        {
            // A log or a pipe has no width: keep every table row (a failed file and its reason) on one line, for grep.
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 1000);
        }

        var outcome = new Outcome();
        var cancelled = false;
        Plan plan = new([], [], []);
        await ShowProgressAsync(async addTask =>
            {
                var checking = addTask("Checking the store", files.Count);
                plan = await PlanAsync(client, storeId, files, checking, interrupted);
                var uploading = addTask($"Uploading ({plan.Skipped.Count} already in the store)", Math.Max(1, plan.Upload.Count));
                if (plan.Upload.Count == 0)
                {
                    uploading.Value = uploading.MaxValue;
                }

                try
                {
                    await UploadAsync(client, plan, outcome, uploading, parallel, interrupted);
                }
                catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
                {
                    cancelled = true;
                    uploading.Description = "Uploading: interrupted, removing uploads not yet attached";
                    foreach (var fileId in outcome.ByFileId.Keys.Where(id => !plan.Reattach.Any(r => r.FileId == id)))
                    {
                        await DeleteQuietlyAsync(client, fileId);
                    }

                    return;
                }

                var toAttach = outcome.ByFileId.Keys.ToList();
                var processing = addTask("Processing", Math.Max(1, toAttach.Count));
                if (toAttach.Count == 0)
                {
                    processing.Value = processing.MaxValue;
                    return;
                }

                foreach (var group in toAttach.Chunk(batchSize))
                {
                    var body = new JsonObject { ["file_ids"] = new JsonArray([.. group.Select(id => (JsonNode)id)]) };
                    if (attributes.Count > 0)
                    {
                        body["attributes"] = attributes.DeepClone();
                    }

                    outcome.Batches.Add((await client.PostAsync($"v1/vector_stores/{storeId}/file_batches", body, CancellationToken.None))["id"]!.GetValue<string>());
                }

                cancelled = await WaitAsync(client, storeId, outcome, processing, interrupted);
            });

        await CollectFailuresAsync(client, storeId, outcome);
        PrintSummary(files.Count, plan, outcome, cancelled);
        return cancelled ? ExitInterrupted : outcome.Failed.Count + outcome.UploadFailures.Count > 0 ? QuiverCli.ExitFailure : QuiverCli.ExitOk;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with progress bars in a terminal; with output redirected (a log, a pipe, CI),
    /// where Spectre.Console draws no bars, as plain lines instead: each phase's state when it changes, at most
    /// every 2 s, and its last state when the next phase starts or the work ends.
    /// </summary>
    private static async Task ShowProgressAsync(Func<Func<string, double, ProgressTask>, Task> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(progress => work((description, maxValue) => progress.AddTask(description, maxValue: maxValue)));
            return;
        }

        var tasks = new List<ProgressTask>();
        var printed = new Dictionary<ProgressTask, string>();
        void Print()
        {
            lock (tasks)
            {
                foreach (var task in tasks)
                {
                    var line = string.Create(CultureInfo.InvariantCulture, $"{task.Description}: {task.Value:0}/{task.MaxValue:0}");
                    if (!printed.TryGetValue(task, out var last) || last != line)
                    {
                        Console.WriteLine(line);
                        printed[task] = line;
                    }
                }
            }
        }

        using var stop = new CancellationTokenSource();
        var ticker = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                Print();
            }
        });
        try
        {
            await work((description, maxValue) =>
            {
                Print();
                var task = new ProgressTask(tasks.Count, description, maxValue);
                lock (tasks)
                {
                    tasks.Add(task);
                }

                return task;
            });
        }
        finally
        {
            await stop.CancelAsync();
            await ticker;
            Print();
        }
    }

    private static List<LocalFile> Walk(string root, string[] include)
    {
        if (File.Exists(root))
        {
            return [new LocalFile(root, Path.GetFileName(root), new FileInfo(root).Length)];
        }

        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddIncludePatterns(include.Length > 0 ? include : ["**/*"]);
        return [.. matcher.GetResultsInFullPath(root).Order(StringComparer.Ordinal).Select(p => new LocalFile(p, Path.GetFileName(p), new FileInfo(p).Length))];
    }

    /// <summary>Which files to upload, which to attach again by id, which to skip (same name, size and SHA-256 as a file in the store).</summary>
    private static async Task<Plan> PlanAsync(ServerClient client, string storeId, List<LocalFile> files, ProgressTask checking, CancellationToken ct)
    {
        var members = await client.ListAllAsync($"v1/vector_stores/{storeId}/files", ct);
        var status = members.ToDictionary(m => m["id"]!.GetValue<string>(), m => m["status"]!.GetValue<string>(), StringComparer.Ordinal);
        // Every file's name and size, page after page (the Files list's largest page, 10,000, is not all of a big project).
        var known = (await client.ListAllAsync("v1/files", ct, pageSize: Quiver.Core.Limits.MaxFilesListLimit))
            .Where(f => status.ContainsKey(f["id"]!.GetValue<string>()))
            .Select(f => (Id: f["id"]!.GetValue<string>(), Name: f["filename"]!.GetValue<string>(), Bytes: f["bytes"]!.GetValue<long>()))
            .ToLookup(f => (f.Name, f.Bytes));

        var plan = new Plan([], [], []);
        var storedHashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            ct.ThrowIfCancellationRequested();
            var match = (string?)null;
            var candidates = known[(file.Name, file.Bytes)].ToList();
            if (candidates.Count > 0)
            {
                var local = await HashAsync(File.OpenRead(file.Path), ct);
                foreach (var candidate in candidates)
                {
                    if (!storedHashes.TryGetValue(candidate.Id, out var stored))
                    {
                        stored = storedHashes[candidate.Id] = await HashAsync(new MemoryStream(await client.DownloadAsync($"v1/files/{candidate.Id}/content", ct)), ct);
                    }

                    if (stored == local)
                    {
                        match = candidate.Id;
                        break;
                    }
                }
            }

            if (match is null)
            {
                plan.Upload.Add(file);
            }
            else if (status[match] is "failed" or "cancelled")
            {
                plan.Reattach.Add((file, match));
            }
            else
            {
                plan.Skipped.Add(file);
            }

            checking.Increment(1);
        }

        return plan;
    }

    private static async Task UploadAsync(ServerClient client, Plan plan, Outcome outcome, ProgressTask uploading, int parallel, CancellationToken ct)
    {
        foreach (var (file, fileId) in plan.Reattach)
        {
            outcome.ByFileId[fileId] = file;
        }

        await Parallel.ForEachAsync(plan.Upload, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct }, async (file, token) =>
        {
            try
            {
                var uploaded = await client.UploadAsync(file.Path, file.Name, token);
                outcome.ByFileId[uploaded["id"]!.GetValue<string>()] = file;
            }
            catch (ServerError e) when (e.Status is >= 400 and < 500 and not 401 and not 403 and not 429)
            {
                outcome.UploadFailures.Add((file, e.Code ?? $"http_{e.Status}", e.Message));
            }

            uploading.Increment(1);
        });
    }

    /// <summary>Polls the batches until all are done; on an interrupt, cancels them and waits until they stop. True when interrupted.</summary>
    private static async Task<bool> WaitAsync(ServerClient client, string storeId, Outcome outcome, ProgressTask processing, CancellationToken interrupted)
    {
        var cancelRequested = false;
        while (true)
        {
            if (interrupted.IsCancellationRequested && !cancelRequested)
            {
                cancelRequested = true;
                foreach (var batch in outcome.Batches)
                {
                    try
                    {
                        await client.PostAsync($"v1/vector_stores/{storeId}/file_batches/{batch}/cancel", new JsonObject(), CancellationToken.None);
                    }
                    catch (ServerError)
                    {
                        // Already finished: nothing to cancel.
                    }
                }
            }

            outcome.Counts.Clear();
            var running = 0;
            foreach (var batch in outcome.Batches)
            {
                var state = await client.GetAsync($"v1/vector_stores/{storeId}/file_batches/{batch}", CancellationToken.None);
                running += state["status"]!.GetValue<string>() == "in_progress" ? 1 : 0;
                foreach (var (name, value) in state["file_counts"]!.AsObject())
                {
                    outcome.Counts[name] = outcome.Counts.GetValueOrDefault(name) + value!.GetValue<long>();
                }
            }

            var done = outcome.Counts.GetValueOrDefault("completed") + outcome.Counts.GetValueOrDefault("failed") + outcome.Counts.GetValueOrDefault("cancelled");
            processing.Value = done;
            processing.Description = string.Create(CultureInfo.InvariantCulture,
                $"{(cancelRequested ? "Cancelling" : "Processing")}: {outcome.Counts.GetValueOrDefault("completed")} completed, "
                + $"{outcome.Counts.GetValueOrDefault("in_progress")} in progress, {outcome.Counts.GetValueOrDefault("failed")} failed, "
                + $"{outcome.Counts.GetValueOrDefault("cancelled")} cancelled");
            if (running == 0)
            {
                return cancelRequested;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(400), interrupted.IsCancellationRequested ? CancellationToken.None : interrupted);
            }
            catch (OperationCanceledException)
            {
                // Interrupted while waiting: the next round cancels.
            }
        }
    }

    private static async Task CollectFailuresAsync(ServerClient client, string storeId, Outcome outcome)
    {
        foreach (var batch in outcome.Batches)
        {
            foreach (var failed in await client.ListAllAsync($"v1/vector_stores/{storeId}/file_batches/{batch}/files?filter=failed", CancellationToken.None))
            {
                var id = failed["id"]!.GetValue<string>();
                var reason = failed["last_error"]?["message"]?.GetValue<string>() ?? "failed";
                var code = failed["last_error"]?["code"]?.GetValue<string>() ?? "-";
                outcome.Failed.Add((outcome.ByFileId.TryGetValue(id, out var file) ? file : new LocalFile(id, id, 0), code, reason));
            }
        }
    }

    private static void PrintSummary(int total, Plan plan, Outcome outcome, bool cancelled)
    {
        var counts = new Table().Border(TableBorder.Rounded).AddColumn("Result").AddColumn(new TableColumn("Files").RightAligned());
        counts.AddRow("completed", Count(outcome.Counts.GetValueOrDefault("completed")));
        counts.AddRow("failed", Count(outcome.Counts.GetValueOrDefault("failed")));
        counts.AddRow("cancelled", Count(outcome.Counts.GetValueOrDefault("cancelled")));
        counts.AddRow("upload refused", Count(outcome.UploadFailures.Count));
        counts.AddRow("skipped (already in the store)", Count(plan.Skipped.Count));
        counts.AddRow("[bold]total[/]", Count(total));
        AnsiConsole.Write(counts);

        var failures = outcome.Failed.Concat(outcome.UploadFailures).OrderBy(f => f.File.Path, StringComparer.Ordinal).ToList();
        if (failures.Count > 0)
        {
            // One row per failed file or refused upload: why, in the server's words.
            var reasons = new Table().Border(TableBorder.Rounded).AddColumn("Failed file").AddColumn("Code").AddColumn("Message");
            foreach (var (file, code, reason) in failures)
            {
                reasons.AddRow(Markup.Escape(file.Path), Markup.Escape(code), Markup.Escape(reason));
            }

            AnsiConsole.Write(reasons);
        }

        if (cancelled)
        {
            AnsiConsole.MarkupLine("Interrupted: the running batches were cancelled. Run the same command again to resume.");
        }
    }

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static async Task<string> HashAsync(Stream stream, CancellationToken ct)
    {
        await using (stream)
        {
            return Convert.ToHexString(await SHA256.HashDataAsync(stream, ct));
        }
    }

    private static async Task DeleteQuietlyAsync(ServerClient client, string fileId)
    {
        try
        {
            await client.DeleteAsync($"v1/files/{fileId}", CancellationToken.None);
        }
        catch (Exception e) when (e is ServerError or HttpRequestException)
        {
            // Best effort: an upload left behind is visible in the Files list and harmless.
        }
    }

    /// <summary><c>key=value</c> pairs as an attributes object: <c>true</c>/<c>false</c> become booleans, numbers numbers, the rest strings.</summary>
    internal static bool TryParseAttributes(string[] pairs, out JsonObject attributes, out string error)
    {
        attributes = [];
        error = "";
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = $"--attributes takes KEY=VALUE pairs, got '{pair}'.";
                return false;
            }

            var key = pair[..equals];
            var value = pair[(equals + 1)..];
            attributes[key] = value switch
            {
                "true" => true,
                "false" => false,
                _ when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) => number,
                _ => value,
            };
        }

        return true;
    }
}
