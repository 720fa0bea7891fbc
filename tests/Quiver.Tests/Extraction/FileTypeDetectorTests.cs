using System.Text;
using Quiver.Core.Extraction;
using Format = Quiver.Core.Extraction.DocumentKind;

namespace Quiver.Tests.Extraction;

public sealed class FileTypeDetectorTests
{
    [Theory]
    [InlineData("a.txt", "hello", "text/plain", Format.PlainText)]
    [InlineData("a.md", "# hi", "text/markdown", Format.Markdown)]
    [InlineData("a.cs", "class A {}", "text/x-csharp", Format.SourceCode)]
    [InlineData("noext", "just words", "text/plain", Format.PlainText)]
    [InlineData("noext", "  <!DOCTYPE html><p>x", "text/html", Format.Html)]
    [InlineData("a.txt", "%PDF-1.7\n", "application/pdf", Format.Pdf)]
    [InlineData("a.docx", "PK\u0003\u0004", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Format.Docx)]
    [InlineData("a.txt", "PK\u0003\u0004", "application/zip", Format.Unsupported)]
    public void Detects_by_content_and_extension(string name, string head, string mime, Format format)
    {
        var result = FileTypeDetector.Detect(name, Encoding.Latin1.GetBytes(head));

        Assert.Equal(new FileTypeInfo(mime, format), result);
    }

    [Fact]
    public void Utf16_text_with_bom_is_text_not_binary()
    {
        var encoding = new UnicodeEncoding(bigEndian: false, byteOrderMark: true);
        byte[] head = [.. encoding.GetPreamble(), .. encoding.GetBytes("hello")];

        Assert.Equal(Format.PlainText, FileTypeDetector.Detect("a.txt", head).Format);
        Assert.Equal(Format.PlainText, FileTypeDetector.Detect("noext", head).Format);
    }

    [Fact]
    public void Binary_content_with_a_text_extension_is_not_text()
    {
        Assert.Equal(new FileTypeInfo("application/octet-stream", Format.Unsupported), FileTypeDetector.Detect("a.txt", [0x01, 0x02, 0x00, 0x41]));
    }

    [Fact]
    public void Latin1_text_is_still_text()
    {
        Assert.Equal(Format.PlainText, FileTypeDetector.Detect("noext", Encoding.Latin1.GetBytes("café")).Format);
    }

    [Fact]
    public void Compound_file_keeps_an_office_extension_but_is_binary_otherwise()
    {
        byte[] head = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];

        Assert.Equal(Format.Docx, FileTypeDetector.Detect("a.docx", head).Format);
        Assert.Equal("application/msword", FileTypeDetector.Detect("a.doc", head).MimeType);
        Assert.Equal("application/octet-stream", FileTypeDetector.Detect("a.txt", head).MimeType);
    }

    [Fact]
    public void Png_bytes_are_an_image_whatever_the_name()
    {
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
        Assert.Equal("image/png", FileTypeDetector.Detect("photo.txt", png).MimeType);
    }
}
