using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Quiver.Core.Errors;
using Quiver.Core.Extraction;
using Quiver.Server.Contracts;

namespace Quiver.Fuzz;

/// <summary>
/// The fuzzed entry points: each takes raw bytes and returns normally for every input a user could send,
/// whether it is accepted or refused with the error a client would get. Any other exception escaping a target
/// is a bug (the fuzzer records the input as a crash; the replay test keeps it as a regression).
/// </summary>
public static class FuzzTargets
{
    /// <summary>Every target by name: one per extractor (the file name's extension picks it) and per request parser.</summary>
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["pdf"] = bytes => Extract(bytes, "input.pdf"),
        ["docx"] = bytes => Extract(bytes, "input.docx"),
        ["pptx"] = bytes => Extract(bytes, "input.pptx"),
        ["xlsx"] = bytes => Extract(bytes, "input.xlsx"),
        ["html"] = bytes => Extract(bytes, "input.html"),
        ["json"] = bytes => Extract(bytes, "input.json"),
        ["csv"] = bytes => Extract(bytes, "input.csv"),
        ["text"] = bytes => Extract(bytes, "input.txt"),
        ["filter"] = bytes => ParseJson(bytes, element => FilterParser.Parse(element)),
        ["chunking"] = bytes => ParseJson(bytes, element => ChunkingStrategyRequest.Parse(element, "chunking_strategy")),
        ["attributes"] = bytes => ParseJson(bytes, element => AttributesParser.Parse(element, "attributes")),
    };

    // Tight enough that the fuzzer spends its time on many inputs, loose enough for every seed. Lazy: no
    // instrumented code may run before SharpFuzz has set up its coverage map (it aborts otherwise).
    private static readonly Lazy<DocumentExtractor> Extractor = new(() => new DocumentExtractor(
        Options.Create(new ExtractionOptions { TimeoutSeconds = 10, MaxCharacters = 5_000_000, MaxPdfPages = 200 }),
        NullLogger<DocumentExtractor>.Instance));

    private static readonly string WorkDirectory = Path.Combine(Path.GetTempPath(), "quiver-fuzz-" + Environment.ProcessId);

    private static void Extract(byte[] bytes, string filename)
    {
        Directory.CreateDirectory(WorkDirectory);
        var path = Path.Combine(WorkDirectory, filename);
        File.WriteAllBytes(path, bytes);
        try
        {
            var extracted = Extractor.Value.ExtractAsync(path, filename, CancellationToken.None).GetAwaiter().GetResult();
            if (extracted.Text.Length == 0)
            {
                throw new InvalidOperationException("An extraction succeeded with no text; it must fail with a reason instead.");
            }
        }
        catch (ExtractionException)
        {
            // Refused with a reason the user sees on the file: expected for hostile input.
        }
    }

    private static void ParseJson(byte[] bytes, Action<JsonElement> parse)
    {
        // As the server's body reader (JsonBody.ReadObjectAsync): invalid UTF-8 is refused before parsing, because
        // JsonDocument does not check the bytes inside strings and reading such a string throws.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException)
        {
            return; // not JSON: the body reader answers 400 before any parser runs
        }

        using (document)
        {
            try
            {
                parse(document.RootElement);
            }
            catch (ApiException e) when (e.Kind == ErrorKind.InvalidRequest && e.Message.Length > 0)
            {
                // Refused with a 400 that names the problem.
            }
        }
    }
}
