using Quiver.Core.Extraction;

namespace Quiver.Tests.Extraction;

public sealed class ExtractionFailureTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("empty.txt", "")]
    [InlineData("blank.txt", "  \r\n\t\n   \n")]
    [InlineData("blank.md", "\n\n\u00A0\u200B\n")]
    [InlineData("noext", "")]
    [InlineData("empty.json", "{}")]
    [InlineData("empty.html", "<html><head><title>t</title></head><body><script>x()</script></body></html>")]
    public async Task Empty_or_whitespace_only_files_are_invalid(string name, string content)
    {
        var path = _folder.Write(name, content);

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, name, Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
    }

    [Fact]
    public async Task Png_is_unsupported()
    {
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52 };
        var path = _folder.Write("photo.png", png);

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "photo.png", Ct));

        Assert.Equal(ExtractionException.UnsupportedFile, error.Code);
        Assert.Contains("image/png", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("archive.zip")]
    [InlineData("archive.txt")]
    public async Task Zip_archives_are_unsupported_whatever_their_name(string name)
    {
        var path = _folder.Write(name, OfficeFixtures.PlainZip());

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, name, Ct));

        Assert.Equal(ExtractionException.UnsupportedFile, error.Code);
    }

    [Fact]
    public async Task Unknown_binary_is_unsupported()
    {
        var path = _folder.Write("blob.bin", [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x03]);

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "blob.bin", Ct));

        Assert.Equal(ExtractionException.UnsupportedFile, error.Code);
    }

    [Fact]
    public async Task Text_over_the_character_limit_is_invalid()
    {
        var path = _folder.Write("huge.txt", new string('x', 5_000));
        var extractor = ExtractorFactory.Create(new ExtractionOptions { MaxCharacters = 1_000 });

        var error = await Assert.ThrowsAsync<ExtractionException>(() => extractor.ExtractAsync(path, "huge.txt", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.Contains("1,000 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Running_out_of_the_time_budget_is_an_invalid_file_not_a_cancellation()
    {
        var path = _folder.Write("report.pdf", PdfFixtures.WithPages(["slow"]));

        // Zero seconds (below the validated minimum) expires the budget immediately.
        var extractor = ExtractorFactory.Create(new ExtractionOptions { TimeoutSeconds = 0 });
        var error = await Assert.ThrowsAsync<ExtractionException>(() => extractor.ExtractAsync(path, "report.pdf", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.Contains("longer than 0 seconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_is_honoured()
    {
        var path = _folder.Write("notes.txt", "content");
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ExtractorFactory.Create().ExtractAsync(path, "notes.txt", cts.Token));
    }
}
