using System.Text;
using Quiver.Fuzz;
using Quiver.Tests.Extraction;

namespace Quiver.Tests.Fuzz;

/// <summary>
/// The fuzzing corpus as regression tests: every committed seed (<c>fuzz/corpus/TARGET</c>) and every crash the
/// fuzzer ever found (<c>fuzz/crashes/TARGET</c>, kept after the fix) goes through its target on each test run and
/// must come back as accepted or as a user-facing refusal. <c>fuzz/run.sh</c> runs the coverage-guided fuzzer itself.
/// Set <c>QUIVER_WRITE_FUZZ_SEEDS=1</c> to regenerate the binary seeds from the test fixtures.
/// </summary>
public sealed class FuzzCorpusTests
{
    public static TheoryData<string> Targets => [.. FuzzTargets.All.Keys];

    [Fact]
    public void Every_target_has_seeds()
    {
        if (Environment.GetEnvironmentVariable("QUIVER_WRITE_FUZZ_SEEDS") == "1")
        {
            WriteSeeds();
        }

        foreach (var target in FuzzTargets.All.Keys)
        {
            var directory = Path.Combine(FuzzRoot, "corpus", target);
            Assert.True(Directory.Exists(directory) && Directory.EnumerateFiles(directory).Any(), $"no seeds in {directory}");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Seeds_and_past_crashes_replay_cleanly(string target)
    {
        var files = new[] { "corpus", "crashes" }
            .Select(kind => Path.Combine(FuzzRoot, kind, target))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)))
            .ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var exception = Record.Exception(() => FuzzTargets.All[target](File.ReadAllBytes(file)));
            Assert.True(exception is null, $"{Path.GetRelativePath(FuzzRoot, file)}: {exception}");
        }
    }

    private static string FuzzRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Quiver.slnx")))
                {
                    return Path.Combine(directory.FullName, "fuzz");
                }
            }

            throw new InvalidOperationException("Quiver.slnx not found above the test binaries.");
        }
    }

    private static void WriteSeeds()
    {
        void Write(string target, string name, byte[] bytes)
        {
            var directory = Path.Combine(FuzzRoot, "corpus", target);
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
        }

        void Text(string target, string name, string text) => Write(target, name, Encoding.UTF8.GetBytes(text));

        Write("pdf", "two-pages.pdf", PdfFixtures.WithPages(["Hello PDF", "line two"], ["Second page"]));
        Write("docx", "small.docx", OfficeFixtures.Docx());
        Write("pptx", "slides.pptx", OfficeFixtures.Pptx(("Title one", "Speaker notes"), ("Title two", null)));
        Write("xlsx", "sheet.xlsx", OfficeFixtures.Xlsx());
        Text("html", "page.html", "<!doctype html><html><head><title>T</title><style>p{}</style></head><body><h1>Head</h1><p>Para &amp; <b>bold</b></p><table><tr><td>a</td><td>b</td></tr></table><script>x()</script></body></html>");
        Text("json", "nested.json", """{"title":"Doc","items":[{"a":1,"b":[true,null,"x"]},{"c":{"d":"deep"}}],"n":-1.5e3}""");
        Text("csv", "table.csv", "name,age,city\n\"Smith, J\",42,\"New\nYork\"\nDoe,,Paris\n");
        Text("csv", "table.tsv.csv", "a\tb\tc\n1\t2\t3\n");
        Write("text", "utf16le-bom.txt", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("UTF-16 text with ümlauts")]);
        Write("text", "latin1.txt", Encoding.Latin1.GetBytes("caf\u00e9 na\u00efve r\u00e9sum\u00e9"));
        Text("text", "markdown.txt", "# Title\n\nSome *markdown* text.\n\n```\ncode\n```\n");
        Text("filter", "compound.json", """{"type":"and","filters":[{"type":"eq","key":"a","value":"x"},{"type":"or","filters":[{"type":"gte","key":"n","value":2},{"type":"in","key":"t","value":[true,false]}]}]}""");
        Text("filter", "leaf.json", """{"type":"nin","key":"k","value":["a","b"]}""");
        Text("chunking", "static.json", """{"type":"static","static":{"max_chunk_size_tokens":400,"chunk_overlap_tokens":100}}""");
        Text("chunking", "auto.json", """{"type":"auto"}""");
        Text("attributes", "mixed.json", """{"s":"text","n":3.5,"b":false}""");
    }
}
