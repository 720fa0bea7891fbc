using Quiver.Core.Search;
using Quiver.Core.Storage.Sqlite;

namespace Quiver.Tests.Search;

public sealed class QueryHelpersTests
{
    [Theory]
    [InlineData("reset my password?", "\"reset\" OR \"my\" OR \"password\"")]
    [InlineData("Reset RESET reset", "\"Reset\"")]
    [InlineData("a AND b OR NOT c", "\"b\" OR \"c\"")]
    [InlineData("the and of", "\"the\" OR \"and\" OR \"of\"")]
    [InlineData("NEAR(x y) title:foo* ^bar", "\"NEAR\" OR \"x\" OR \"y\" OR \"title\" OR \"foo\" OR \"bar\"")]
    [InlineData("say \"hi\" -there", "\"say\" OR \"hi\"")]
    [InlineData("a'; DROP TABLE x;--", "\"DROP\" OR \"TABLE\" OR \"x\"")]
    [InlineData("what's up", "\"whats\" OR \"up\"")]
    [InlineData("café 東京 v2.0", "\"café\" OR \"東京\" OR \"v2\" OR \"0\"")]
    public void Fts5_query_quotes_every_word_but_stop_words_and_ors_them(string input, string expected) =>
        Assert.Equal(expected, Fts5QueryBuilder.Build(input));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("?!... --- \"\" ''")]
    public void Fts5_query_is_null_without_words(string input) => Assert.Null(Fts5QueryBuilder.Build(input));

    [Fact]
    public void Fts5_query_caps_the_number_of_terms()
    {
        var built = Fts5QueryBuilder.Build(string.Join(' ', Enumerable.Range(0, 200).Select(i => $"w{i}")))!;
        Assert.Equal(QueryText.MaxTerms, built.Split(" OR ").Length);
    }

    [Fact]
    public void Fts5_query_never_contains_an_unbalanced_quote()
    {
        var random = new Random(3);
        const string alphabet = "ab\"'*:^()-+ ,.AND";
        for (var n = 0; n < 500; n++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(1, 30)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            var built = Fts5QueryBuilder.Build(text);
            if (built is not null)
            {
                Assert.Equal(0, built.Count(c => c == '"') % 2);
                Assert.All(built.Split(" OR "), term => Assert.Matches("^\"[^\"]+\"$", term));
            }
        }
    }

    [Theory]
    [InlineData("Can you please tell me how do I reset my password?", "reset password")]
    [InlineData("What is the refund policy for Enterprise plans?", "refund policy enterprise plans")]
    [InlineData("What's the capital of France", "capital france")]
    [InlineData("Hello! I would like to know about shipping to Canada.", "know shipping canada")]
    [InlineData("Why is the build not passing", "why build not passing")]
    [InlineData("Ｆｕｌｌｗｉｄｔｈ ＴＥＸＴ", "fullwidth text")]
    [InlineData("ﬁle  uploads\twithout\u00a0limits", "file uploads without limits")]
    [InlineData("  ÉCOLE—normale  ", "école normale")]
    public void Rewrite_drops_filler_and_keeps_content_words_in_order(string input, string expected) =>
        Assert.Equal(expected, QueryRewriter.Rewrite(input));

    [Theory]
    [InlineData("What is it?", "what is it")] // only filler: fall back to the folded words
    [InlineData("The The", "the the")]
    [InlineData(" ?!? ", "?!?")] // no words at all: the trimmed input
    public void Rewrite_is_never_empty(string input, string expected) =>
        Assert.Equal(expected, QueryRewriter.Rewrite(input));

    [Fact]
    public void Rewrite_is_deterministic_and_idempotent()
    {
        const string input = "Could you show me the latest Q3 revenue numbers, please?";
        var once = QueryRewriter.Rewrite(input);
        Assert.Equal("latest q3 revenue numbers", once);
        Assert.Equal(once, QueryRewriter.Rewrite(input));
        Assert.Equal(once, QueryRewriter.Rewrite(once));
    }
}
