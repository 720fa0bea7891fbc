using Microsoft.Data.Sqlite;
using Quiver.Core.Search;

namespace Quiver.Tests.Search;

/// <summary>
/// The analyzer plus <see cref="Bm25"/> must reproduce SQLite FTS5's own <c>bm25()</c> on the same texts: that is
/// what lets the PostgreSQL backend rank exactly like the embedded one.
/// </summary>
public sealed class Fts5AnalyzerTests
{
    private static readonly string[] Vocabulary =
    [
        "running", "runners", "ran", "run", "café", "CAFE", "naïve", "Protein", "proteins", "binding", "bound", "cells",
        "cell's", "immune", "response", "responses", "the", "of", "and", "Β-cells", "x-ray", "2024", "μm", "DNA",
        "methylation", "methylated", "über", "Straße", "ÉCOLE", "école", "mice", "mouse", "tumour", "tumor",
    ];

    [Fact]
    public void Analysis_plus_bm25_reproduces_fts5_scores()
    {
        var random = new Random(1234);
        var texts = Enumerable.Range(0, 300)
            .Select(_ => string.Join(random.Next(4) == 0 ? ", " : " ", Enumerable.Range(0, random.Next(1, 40)).Select(_ => Vocabulary[random.Next(Vocabulary.Length)])))
            .Append("")
            .Append("!!! ... ---")
            .ToList();
        var analyzed = Fts5Analyzer.Shared.Analyze(texts);

        using var sqlite = new SqliteConnection("Data Source=:memory:");
        sqlite.Open();
        Execute(sqlite, $"CREATE VIRTUAL TABLE f USING fts5 (text, tokenize = '{Fts5Analyzer.Tokenizer}')");
        for (var i = 0; i < texts.Count; i++)
        {
            using var insert = sqlite.CreateCommand();
            insert.CommandText = "INSERT INTO f (rowid, text) VALUES ($id, $text)";
            insert.Parameters.AddWithValue("$id", i + 1);
            insert.Parameters.AddWithValue("$text", texts[i]);
            insert.ExecuteNonQuery();
        }

        var averageLength = analyzed.Average(a => (double)a.Length);
        var compared = 0;
        foreach (var query in new[] { "runner running", "Cafe naive proteins", "ecole STRASSE straße", "the cells of mice", "methylation x-ray 2024 μm", "of the" })
        {
            var terms = Fts5Analyzer.Shared.QueryTerms(query);
            var match = string.Join(" OR ", QueryText.LexicalTerms(query).Select(t => "\"" + t + "\""));
            var expected = new Dictionary<long, double>();
            using (var command = sqlite.CreateCommand())
            {
                command.CommandText = "SELECT rowid, -bm25(f) FROM f WHERE f MATCH $match";
                command.Parameters.AddWithValue("$match", match);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    expected[reader.GetInt64(0)] = reader.GetDouble(1);
                }
            }

            var actual = new Dictionary<long, double>();
            foreach (var term in terms)
            {
                var df = analyzed.Count(a => a.Terms.ContainsKey(term));
                var idf = Bm25.Idf(texts.Count, df);
                for (var i = 0; i < analyzed.Count; i++)
                {
                    if (analyzed[i].Terms.TryGetValue(term, out var tf))
                    {
                        actual[i + 1] = actual.GetValueOrDefault(i + 1) + Bm25.Term(idf, tf, analyzed[i].Length, averageLength);
                    }
                }
            }

            Assert.NotEmpty(expected);
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (row, score) in expected)
            {
                Assert.Equal(score, actual[row], 9);
                compared++;
            }
        }

        Assert.True(compared > 300, $"only {compared} scores compared");
    }

    [Fact]
    public void Query_terms_are_stemmed_folded_and_stop_words_dropped()
    {
        Assert.Equal(["cafe", "protein", "run"], Fts5Analyzer.Shared.QueryTerms("The running of Café proteins"));
        Assert.Equal(["the"], Fts5Analyzer.Shared.QueryTerms("the"));
        Assert.Empty(Fts5Analyzer.Shared.QueryTerms("?!"));
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
