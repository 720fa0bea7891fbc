using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Quiver.Core.Search;

/// <summary>
/// The embedded backend's lexical analysis — SQLite FTS5's <c>porter unicode61 remove_diacritics 2</c>
/// tokenizer — available to a backend that keeps its own postings (PostgreSQL). Rather than re-implement
/// unicode61's separators and case/diacritic folding and FTS5's Porter stemmer (and drift from them), each
/// text is tokenized by FTS5 itself in a private in-memory database and the terms are read back through
/// <c>fts5vocab</c>; both backends therefore index and look up exactly the same terms.
/// </summary>
/// <remarks>
/// Connections are pooled (one per concurrent caller); each analysis runs in a transaction that is rolled
/// back, so the in-memory table is empty again afterwards. Thread-safe.
/// </remarks>
internal sealed class Fts5Analyzer : IDisposable
{
    /// <summary>The tokenizer of the embedded backend's <c>chunks_fts</c> table (SqliteMigrations).</summary>
    public const string Tokenizer = "porter unicode61 remove_diacritics 2";

    /// <summary>One analyzer per process is enough; it is cheap when idle.</summary>
    public static Fts5Analyzer Shared { get; } = new();

    private readonly ConcurrentBag<SqliteConnection> _idle = [];

    /// <summary>Term frequencies and length (tokens, stop words included, as FTS5 counts them) of each text, in order.</summary>
    public IReadOnlyList<AnalyzedText> Analyze(IReadOnlyList<string> texts)
    {
        var result = new AnalyzedText[texts.Count];
        if (texts.Count == 0)
        {
            return result;
        }

        var connection = Rent();
        try
        {
            using var transaction = connection.BeginTransaction();
            using (var insert = connection.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO t (rowid, text) VALUES ($id, $text)";
                var id = insert.Parameters.Add("$id", SqliteType.Integer);
                var text = insert.Parameters.Add("$text", SqliteType.Text);
                for (var i = 0; i < texts.Count; i++)
                {
                    id.Value = i + 1;
                    text.Value = texts[i];
                    insert.ExecuteNonQuery();
                }
            }

            var terms = new Dictionary<string, int>[texts.Count];
            for (var i = 0; i < terms.Length; i++)
            {
                terms[i] = new Dictionary<string, int>(StringComparer.Ordinal);
            }

            using (var read = connection.CreateCommand())
            {
                read.Transaction = transaction;
                read.CommandText = "SELECT doc, term, count(*) FROM v GROUP BY doc, term";
                using var reader = read.ExecuteReader();
                while (reader.Read())
                {
                    terms[reader.GetInt64(0) - 1][reader.GetString(1)] = reader.GetInt32(2);
                }
            }

            transaction.Rollback();
            for (var i = 0; i < terms.Length; i++)
            {
                result[i] = new AnalyzedText(terms[i], terms[i].Values.Sum());
            }

            return result;
        }
        finally
        {
            _idle.Add(connection);
        }
    }

    /// <summary>
    /// The index terms of a query's lexical words (<see cref="QueryText.LexicalTerms(string)"/>), distinct and sorted:
    /// what FTS5 looks up for <c>"word" OR "word" …</c>. A word the tokenizer splits contributes each of its terms.
    /// </summary>
    public IReadOnlyList<string> QueryTerms(string query)
    {
        var words = QueryText.LexicalTerms(query);
        if (words.Count == 0)
        {
            return [];
        }

        // The words are OR-ed, so the terms are a set; sorted, they make a stable parameter.
        return [.. Analyze([string.Join(' ', words)])[0].Terms.Keys.Order(StringComparer.Ordinal)];
    }

    private SqliteConnection Rent()
    {
        if (_idle.TryTake(out var connection))
        {
            return connection;
        }

        connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var create = connection.CreateCommand();
        create.CommandText = $"""
            CREATE VIRTUAL TABLE t USING fts5 (text, tokenize = '{Tokenizer}');
            CREATE VIRTUAL TABLE v USING fts5vocab (t, instance);
            """;
        create.ExecuteNonQuery();
        return connection;
    }

    public void Dispose()
    {
        while (_idle.TryTake(out var connection))
        {
            connection.Dispose();
        }
    }
}

/// <summary>One text's index terms with their frequencies, and its length in tokens.</summary>
internal sealed record AnalyzedText(IReadOnlyDictionary<string, int> Terms, int Length);
