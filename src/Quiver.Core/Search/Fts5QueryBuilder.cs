using System.Text;

namespace Quiver.Core.Search;

/// <summary>
/// Turns free user text into a safe SQLite FTS5 MATCH expression: the words of the text (see
/// <see cref="QueryText.Words"/>), de-duplicated case-insensitively, each quoted as an FTS5 string
/// (<c>"</c> doubled) and joined with <c>OR</c>, e.g. <c>reset my password?</c> → <c>"reset" OR "my" OR "password"</c>.
/// Quoting makes FTS5 syntax in the text (<c>AND</c>, <c>NEAR</c>, <c>*</c>, <c>:</c>, <c>^</c>, parentheses) plain data;
/// BM25 then ranks by how many and how rare the matched words are. The result is still bound as a parameter.
/// English stop words (Lucene's default set, as PostgreSQL's <c>english</c> configuration also drops)
/// are left out unless nothing else remains: BM25 gives them almost no weight, but they match nearly
/// every chunk, so scoring them costs most of the query's time (measured on SciFact: no change in
/// nDCG@10, BM25 p50 35 → 20 ms; see docs/benchmarks.md).
/// </summary>
internal static class Fts5QueryBuilder
{
    /// <summary>Lucene's <c>EnglishAnalyzer</c> default stop set.</summary>
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
        "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they",
        "this", "to", "was", "will", "with",
    };

    /// <summary>Words kept from one query; bounds the cost of the OR expression (a query is ≤ 4096 chars).</summary>
    public const int MaxTerms = 64;

    /// <summary>The MATCH expression, or null when the text has no words (the lexical leg is then skipped).</summary>
    public static string? Build(string query) => Build(query, skipStopWords: true) ?? Build(query, skipStopWords: false);

    private static string? Build(string query, bool skipStopWords)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var builder = new StringBuilder();
        foreach (var word in QueryText.Words(query))
        {
            var lower = word.ToLowerInvariant();
            if ((skipStopWords && StopWords.Contains(lower)) || !seen.Add(lower))
            {
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append(" OR ");
            }

            builder.Append('"').Append(word.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            if (seen.Count == MaxTerms)
            {
                break;
            }
        }

        return builder.Length == 0 ? null : builder.ToString();
    }
}
