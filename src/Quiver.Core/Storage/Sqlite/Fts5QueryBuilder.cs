using Quiver.Core.Search;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>
/// Turns free user text into a safe SQLite FTS5 MATCH expression: the query's lexical terms (see
/// <see cref="QueryText.LexicalTerms(string)"/>: words, de-duplicated, stop words left out), each quoted as an FTS5
/// string (<c>"</c> doubled) and joined with <c>OR</c>, e.g. <c>reset my password?</c> → <c>"reset" OR "my" OR "password"</c>.
/// Quoting makes FTS5 syntax in the text (<c>AND</c>, <c>NEAR</c>, <c>*</c>, <c>:</c>, <c>^</c>, parentheses) plain data;
/// BM25 then ranks by how many and how rare the matched words are. The result is still bound as a parameter.
/// </summary>
internal static class Fts5QueryBuilder
{
    /// <summary>The MATCH expression, or null when the text has no words (the lexical leg is then skipped).</summary>
    public static string? Build(string query)
    {
        var terms = QueryText.LexicalTerms(query);
        return terms.Count == 0
            ? null
            : string.Join(" OR ", terms.Select(t => "\"" + t.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""));
    }
}
