using System.Text;
using Quiver.Core.Errors;
using Quiver.Core.Extraction;
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
        Assert.Equal(400, error.Status);
        Assert.Equal("file", error.Param);
    }

    [Fact]
    public void Names_longer_than_255_characters_are_rejected()
    {
        Assert.Equal(255, FileNames.Validate(new string('a', 255)).Length);
        Assert.Throws<ApiException>(() => FileNames.Validate(new string('a', 256)));
    }

    [Theory]
    [InlineData("a.txt", "%PDF-1.7", "application/pdf", DocumentKind.Pdf)]
    [InlineData("a.docx", "PK\u0003\u0004", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", DocumentKind.Docx)]
    [InlineData("a.txt", "PK\u0003\u0004", "application/zip", DocumentKind.Unsupported)]
    [InlineData("a.md", "# hi", "text/markdown", DocumentKind.Markdown)]
    [InlineData("a.cs", "class A {}", "text/x-csharp", DocumentKind.SourceCode)]
    [InlineData("README", "plain words", "text/plain", DocumentKind.PlainText)]
    [InlineData("a.txt", "bin\u0000ary", "application/octet-stream", DocumentKind.Unsupported)]
    public void Type_detection_prefers_magic_bytes(string name, string head, string mime, DocumentKind kind)
    {
        var type = FileTypeDetector.Detect(name, Encoding.Latin1.GetBytes(head));
        Assert.Equal(mime, type.MimeType);
        Assert.Equal(kind, type.Format);
    }

    [Fact]
    public void Png_bytes_are_an_image_whatever_the_name()
    {
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
        Assert.Equal("image/png", FileTypeDetector.Detect("photo.txt", png).MimeType);
    }
}
