using System.Text;
using System.Text.Json;

namespace Quiver.Tests.Chunking;

/// <summary>Deterministic documents for the chunker tests.</summary>
internal static class ChunkingTexts
{
    // SciFact is real prose (abstracts with numbers, Greek letters and abbreviations): the shared corpus where it is
    // mounted, otherwise the 300-document subset committed for the retrieval smoke test (copied beside the tests),
    // so the tests that use it always run.
    private static readonly string CorpusPath =
        Environment.GetEnvironmentVariable("QUIVER_SCIFACT_CORPUS") is { Length: > 0 } configured ? configured
        : File.Exists("/work/shared/datasets/scifact/corpus.jsonl") ? "/work/shared/datasets/scifact/corpus.jsonl"
        : Path.Combine(AppContext.BaseDirectory, "Fixtures", "scifact-smoke-corpus.jsonl");

    private static readonly string[] Words =
    [
        "the", "cell", "protein", "binding", "of", "a", "study", "patients", "with", "increased",
        "expression", "in", "mice", "and", "we", "found", "that", "results", "suggest", "role",
        "receptor", "signalling", "pathway", "significantly", "reduced", "risk", "cohort", "analysis",
        "e.g.", "3.14", "p<0.05", "(n=42)", "mitochondrial", "transcription", "factor", "is", "not",
        "however", "data", "were", "obtained", "from", "randomized", "trials", "inhibitor", "dose",
    ];

    private static readonly string[] Multilingual =
    [
        "café", "naïve", "Ærøskøbing", "façade", "Zürich", "jalapeño", "crème brûlée", "Ελληνικά",
        "Привет", "مرحبا", "שלום", "हिन्दी", "😀", "👩‍👩‍👧‍👦", "🇫🇷", "🧬", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "你好世界",
        "细胞蛋白质结合", "東京都", "한국어", "ñandú", "Œuvre", "ﬁnance",
    ];

    /// <summary>The first <paramref name="documents"/> SciFact documents (at most the corpus's) as one long text.</summary>
    public static string SciFact(int documents)
    {
        var builder = new StringBuilder();
        foreach (var line in File.ReadLines(CorpusPath).Take(documents))
        {
            using var doc = JsonDocument.Parse(line);
            builder.Append(doc.RootElement.GetProperty("title").GetString()).Append("\n\n")
                .Append(doc.RootElement.GetProperty("text").GetString()).Append("\n\n\n");
        }

        return builder.ToString();
    }

    /// <summary>
    /// Prose with paragraphs, list lines, quoted sentence ends, Windows line breaks and the odd
    /// long unbroken token run, so that every boundary kind (and hard cuts) occurs.
    /// </summary>
    public static string Synthetic(int seed, int paragraphs, bool multilingual = false)
    {
        var random = new Random(seed);
        var builder = new StringBuilder("  \n");
        for (var p = 0; p < paragraphs; p++)
        {
            switch (random.Next(10))
            {
                case 0:
                    for (var item = random.Next(2, 6); item > 0; item--)
                    {
                        builder.Append("- ");
                        AppendWords(builder, random, random.Next(3, 12), multilingual);
                        builder.Append('\n');
                    }

                    break;
                case 1:
                    // No white space at all for a few hundred characters: only hard cuts are possible.
                    // Multilingual runs stay under TokenizationSegmenter.MaxUnsplitChars so that the
                    // chunker's tokens are exactly the whole-text tokens.
                    for (var i = multilingual ? random.Next(40, 120) : random.Next(200, 900); i > 0; i--)
                    {
                        builder.Append(multilingual ? Multilingual[random.Next(Multilingual.Length)].Replace(" ", "", StringComparison.Ordinal) : (char)('a' + random.Next(26)));
                    }

                    builder.Append('.');
                    break;
                default:
                    for (var s = random.Next(1, 9); s > 0; s--)
                    {
                        AppendWords(builder, random, random.Next(4, 28), multilingual);
                        builder.Append(random.Next(8) switch
                        {
                            0 => "!",
                            1 => "?",
                            2 => ".\"",
                            3 => ".)",
                            4 when multilingual => "。",
                            _ => ".",
                        });
                        builder.Append(random.Next(6) == 0 ? "\r\n" : " ");
                    }

                    break;
            }

            builder.Append(random.Next(4) == 0 ? "\n\n\n" : "\n\n");
        }

        return builder.Append(" \t\n").ToString();
    }

    private static void AppendWords(StringBuilder builder, Random random, int count, bool multilingual)
    {
        for (var w = 0; w < count; w++)
        {
            if (w > 0)
            {
                builder.Append(' ');
            }

            builder.Append(multilingual && random.Next(3) == 0
                ? Multilingual[random.Next(Multilingual.Length)]
                : Words[random.Next(Words.Length)]);
        }
    }
}
