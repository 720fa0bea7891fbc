using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Quiver.Bench;

/// <summary>What every benchmark needs: <c>--name value</c> options, percentiles, and stopwatch arithmetic.</summary>
internal static class BenchSupport
{
    /// <summary>The value after <paramref name="name"/> (e.g. <c>--runs</c>), or null.</summary>
    public static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The integer after <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public static int Option(string[] args, string name, int fallback) =>
        Option(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    /// <summary>Nearest-rank percentile (<paramref name="p"/> in [0, 1]) of a non-empty list.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>Milliseconds between two <see cref="Stopwatch.GetTimestamp"/> readings.</summary>
    public static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    /// <summary>Uploads each text as <c>doc{i}.txt</c> (purpose <c>assistants</c>) through <c>POST /v1/files</c>, four at a time; returns the file ids in order.</summary>
    public static async Task<string[]> UploadTextFilesAsync(HttpClient http, IReadOnlyList<string> docs)
    {
        var fileIds = new string[docs.Count];
        await Parallel.ForAsync(0, docs.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            using var form = new MultipartFormDataContent();
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(docs[i]));
            content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            form.Add(content, "file", $"doc{i}.txt");
            form.Add(new StringContent("assistants"), "purpose");
            using var response = await http.PostAsync("/v1/files", form, ct);
            fileIds[i] = (string)(await ReadAsync(response))["id"]!;
        });
        return fileIds;
    }

    /// <summary>The JSON body of a successful response; anything else throws with the status and body.</summary>
    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? JsonNode.Parse(body)!.AsObject()
            : throw new InvalidOperationException($"{(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {body}");
    }
}

/// <summary><c>--name value</c> pairs, parsed strictly (a stray word is an error, not ignored).</summary>
internal sealed class BenchOptions(Dictionary<string, string> values)
{
    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Unexpected argument '{args[i]}'; expected --name value pairs.");
            }

            values[args[i][2..]] = args[++i];
        }

        return new BenchOptions(values);
    }

    public string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);

    public string? GetOrNull(string name) => values.GetValueOrDefault(name);

    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
