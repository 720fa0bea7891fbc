using Quiver.Core.Errors;
using Quiver.Core.Files;

namespace Quiver.Tests.Files;

public sealed class FileRulesTests
{
    [Theory]
    [InlineData("report.pdf")]
    [InlineData("ünïcode — name.txt")]
    [InlineData("with \"quotes\"; and semicolons.md")]
    public void Ordinary_names_are_kept_as_is(string name) => Assert.Equal(name, FileNames.Validate(name));

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("../x")]
    [InlineData("a\\b")]
    [InlineData("a\u0000b")]
    [InlineData("a\rb")]
    [InlineData("..")]
    public void Unsafe_names_are_400_on_file(string name)
    {
        var error = Assert.Throws<ApiException>(() => FileNames.Validate(name));
        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.Equal("file", error.Param);
    }

    [Fact]
    public void Names_longer_than_255_characters_are_rejected()
    {
        Assert.Equal(255, FileNames.Validate(new string('a', 255)).Length);
        Assert.Throws<ApiException>(() => FileNames.Validate(new string('a', 256)));
    }
}
