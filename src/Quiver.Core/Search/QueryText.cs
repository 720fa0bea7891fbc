using System.Text;

namespace Quiver.Core.Search;

/// <summary>
/// Shared text folding and word splitting for query helpers. Words are maximal runs of letters, digits and
/// combining marks (apostrophes inside a word are dropped, so "what's" → "whats"); everything else separates.
/// </summary>
/// <remarks>
/// The service runs with <c>InvariantGlobalization</c>, where <see cref="string.Normalize()"/> leaves non-ASCII
/// text unchanged, so <see cref="Fold"/> applies the compatibility mappings that matter for queries by hand:
/// full-width ASCII (U+FF01–FF5E), the Latin ligatures U+FB00–FB06, and Unicode spaces; then invariant lower-casing.
/// </remarks>
internal static class QueryText
{
    /// <summary>Lower-cases (invariant) and applies the compatibility folds described on the type.</summary>
    public static string Fold(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            switch (c)
            {
                case >= '\uFF01' and <= '\uFF5E':
                    builder.Append(char.ToLowerInvariant((char)(c - 0xFEE0)));
                    break;
                case '\uFB00': builder.Append("ff"); break;
                case '\uFB01': builder.Append("fi"); break;
                case '\uFB02': builder.Append("fl"); break;
                case '\uFB03': builder.Append("ffi"); break;
                case '\uFB04': builder.Append("ffl"); break;
                case '\uFB05' or '\uFB06': builder.Append("st"); break;
                default:
                    builder.Append(char.IsWhiteSpace(c) ? ' ' : char.ToLowerInvariant(c));
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>Splits folded text into words (see the type summary); never returns empty words.</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (IsWordChar(text, i))
            {
                current.Append(c);
                if (char.IsHighSurrogate(c) && i + 1 < text.Length)
                {
                    current.Append(text[++i]);
                }
            }
            else if (c is '\'' or '\u2019' && current.Length > 0 && i + 1 < text.Length && IsWordChar(text, i + 1))
            {
                // Apostrophe inside a word: drop it and keep the word together.
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }

        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }

        return words;
    }

    /// <summary>Lucene's <c>EnglishAnalyzer</c> default stop set (PostgreSQL's <c>english</c> configuration drops the same).</summary>
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
        "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they",
        "this", "to", "was", "will", "with",
    };

    /// <summary>Words kept from one query; bounds the cost of a lexical query (a query is ≤ 4096 chars).</summary>
    public const int MaxTerms = 64;

    /// <summary>
    /// The terms a lexical search looks up, the same on every backend: the query's <see cref="Words"/>,
    /// de-duplicated case-insensitively (the first spelling kept), English stop words left out unless nothing
    /// else remains, at most <see cref="MaxTerms"/>. Stop words match nearly every chunk while BM25 gives them
    /// almost no weight, so scoring them costs most of a query's time for no gain (SciFact: nDCG@10 unchanged,
    /// BM25 p50 35 → 20 ms; see docs/benchmarks.md). Empty when the text has no words.
    /// </summary>
    public static IReadOnlyList<string> LexicalTerms(string query)
    {
        var terms = LexicalTerms(query, skipStopWords: true);
        return terms.Count > 0 ? terms : LexicalTerms(query, skipStopWords: false);
    }

    private static List<string> LexicalTerms(string query, bool skipStopWords)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var terms = new List<string>();
        foreach (var word in Words(query))
        {
            var lower = word.ToLowerInvariant();
            if ((skipStopWords && StopWords.Contains(lower)) || !seen.Add(lower))
            {
                continue;
            }

            terms.Add(word);
            if (terms.Count == MaxTerms)
            {
                break;
            }
        }

        return terms;
    }

    private static bool IsWordChar(string text, int index) =>
        char.IsLetterOrDigit(text, index) || char.GetUnicodeCategory(text, index) is
            System.Globalization.UnicodeCategory.NonSpacingMark or
            System.Globalization.UnicodeCategory.SpacingCombiningMark;
}
