using Quiver.Core.Errors;
using Quiver.Core.Ids;
using Quiver.Core.Tenancy;

namespace Quiver.Tests.Ids;

public sealed class IdTests
{
    [Theory]
    [InlineData("file-")]
    [InlineData("vs_")]
    [InlineData("vsfb_")]
    public void Generated_ids_have_the_prefix_and_24_base62_characters(string prefix)
    {
        var generator = new RandomIdGenerator();
        var ids = Enumerable.Range(0, 2000).Select(_ => generator.NewId(prefix)).ToList();
        Assert.All(ids, id =>
        {
            Assert.StartsWith(prefix, id);
            Assert.Equal(prefix.Length + 24, id.Length);
            Assert.All(id[prefix.Length..], c => Assert.True(char.IsAsciiLetterOrDigit(c)));
            Assert.True(IdValidator.IsWellFormed(id, prefix));
        });
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        // Every base62 character shows up: the alphabet is used, not a subset.
        Assert.Equal(62, ids.SelectMany(id => id[prefix.Length..]).Distinct().Count());
    }

    [Theory]
    [InlineData("vs_abc", "file-", false)]
    [InlineData("file-", "file-", false)]
    [InlineData("file-abc$", "file-", false)]
    [InlineData("file-abc def", "file-", false)]
    [InlineData("FILE-abc", "file-", false)]
    [InlineData("file-abc123", "file-", true)]
    [InlineData("vsfb_x", "vsfb_", true)]
    public void Validator_checks_prefix_and_characters(string value, string prefix, bool expected) =>
        Assert.Equal(expected, IdValidator.IsWellFormed(value, prefix));

    [Fact]
    public void Require_names_the_parameter_and_the_expected_prefix()
    {
        var error = Assert.Throws<ApiException>(() => IdValidator.Require("vs_abc", IdPrefixes.FileBatch, "batch_id"));
        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.Equal("batch_id", error.Param);
        Assert.Contains("vsfb_", error.Message);
    }

    [Theory]
    [InlineData("user_123", true)]
    [InlineData(" ~", true)]
    [InlineData("", false)]
    [InlineData("*", false)]
    [InlineData("é", false)]
    [InlineData("a\tb", false)]
    public void On_behalf_of_values_are_printable_ascii_and_not_star(string value, bool expected) =>
        Assert.Equal(expected, Principal.IsValidUser(value));

    [Fact]
    public void On_behalf_of_is_at_most_150_characters()
    {
        Assert.True(Principal.IsValidUser(new string('a', 150)));
        Assert.False(Principal.IsValidUser(new string('a', 151)));
    }
}
