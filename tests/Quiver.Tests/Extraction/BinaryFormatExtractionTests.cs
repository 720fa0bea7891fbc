using Quiver.Core.Extraction;
using Format = Quiver.Core.Extraction.DocumentKind;

namespace Quiver.Tests.Extraction;

public sealed class BinaryFormatExtractionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pdf_text_is_extracted_page_by_page_with_blank_lines_between_pages()
    {
        var path = _folder.Write("report.pdf", PdfFixtures.WithPages(["Quokka census results"], ["Second page about wallabies"]));

        var result = await ExtractorFactory.Create().ExtractAsync(path, "report.pdf", Ct);

        Assert.Equal(Format.Pdf, result.Format);
        Assert.Equal(2, result.PageCount);
        Assert.Contains("Quokka census results", result.Text, StringComparison.Ordinal);
        Assert.Contains("Second page about wallabies", result.Text, StringComparison.Ordinal);
        Assert.Contains("results\n\nSecond", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pdf_renamed_to_txt_is_still_read_as_pdf()
    {
        var path = _folder.Write("sneaky.txt", PdfFixtures.WithPages(["Hidden pangolin"]));

        var result = await ExtractorFactory.Create().ExtractAsync(path, "sneaky.txt", Ct);

        Assert.Equal(Format.Pdf, result.Format);
        Assert.Contains("Hidden pangolin", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pdf_over_the_page_budget_is_refused()
    {
        var path = _folder.Write("long.pdf", PdfFixtures.WithPages(["one"], ["two"], ["three"]));
        var extractor = ExtractorFactory.Create(new ExtractionOptions { MaxPdfPages = 2 });

        var error = await Assert.ThrowsAsync<ExtractionException>(() => extractor.ExtractAsync(path, "long.pdf", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.Contains("3 pages", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pdf_without_text_is_invalid()
    {
        var path = _folder.Write("blank.pdf", PdfFixtures.WithPages([]));

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "blank.pdf", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.Contains("OCR", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corrupt_pdf_is_invalid_and_the_message_leaks_no_internals()
    {
        var path = _folder.Write("corrupt.pdf", "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage garbage\x01\x02 trailer <<"u8.ToArray());

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "corrupt.pdf", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.DoesNotContain(_folder.Path, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password_protected_pdf_is_invalid()
    {
        var path = _folder.Write("locked.pdf", PdfFixtures.Encrypted());

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "locked.pdf", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.Contains("password", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Docx_paragraphs_and_tables_are_extracted()
    {
        var path = _folder.Write("report.docx", OfficeFixtures.Docx());

        var result = await ExtractorFactory.Create().ExtractAsync(path, "report.docx", Ct);

        Assert.Equal(Format.Docx, result.Format);
        Assert.Equal(
            "Aardvark opens the report.\n\nSplit across runs\nafter a break\n\nSpecies | Habitat\nZebra | Savanna\n\nClosing capybara paragraph.",
            result.Text);
        Assert.DoesNotContain("DeletedSecret", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pptx_slides_come_in_presentation_order_with_their_notes()
    {
        var path = _folder.Write("deck.pptx", OfficeFixtures.Pptx(("Alpha slide albatross", "Speaker reminder"), ("Bravo slide bison", null), ("Charlie slide cheetah", null)));

        var result = await ExtractorFactory.Create().ExtractAsync(path, "deck.pptx", Ct);

        Assert.Equal(Format.Pptx, result.Format);
        Assert.Equal(3, result.PageCount);
        Assert.Equal(
            "Slide 1\nAlpha slide albatross\n\nNotes:\nSpeaker reminder\n\nSlide 2\nBravo slide bison\n\nSlide 3\nCharlie slide cheetah",
            result.Text);
    }

    [Fact]
    public async Task Xlsx_sheets_and_cells_are_extracted_with_shared_strings_resolved()
    {
        var path = _folder.Write("stock.xlsx", OfficeFixtures.Xlsx());

        var result = await ExtractorFactory.Create().ExtractAsync(path, "stock.xlsx", Ct);

        Assert.Equal(Format.Xlsx, result.Format);
        Assert.Equal(
            "Sheet: Inventory\nAnimal | Count\nAnimal: Wombat; Count: 42\nAnimal: Narwhal; Count: 7\n\nSheet: Budget\nOcelot fund | gap before me",
            result.Text);
    }

    [Fact]
    public async Task Corrupt_docx_is_invalid()
    {
        var path = _folder.Write("broken.docx", [.. "PK\x03\x04"u8, .. Enumerable.Repeat((byte)0x5A, 300)]);

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "broken.docx", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
    }

    [Fact]
    public async Task Zip_without_office_parts_named_docx_is_invalid()
    {
        var path = _folder.Write("fake.docx", OfficeFixtures.PlainZip());

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "fake.docx", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.Contains("Word document", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Encrypted_office_document_is_invalid()
    {
        // Office stores a password-protected .docx as an OLE compound file, not a ZIP.
        var path = _folder.Write("locked.docx", [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, .. new byte[504]]);

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "locked.docx", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.Contains("password", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Docx_zip_bomb_is_refused_from_the_central_directory_without_inflating()
    {
        var path = Path.Combine(_folder.Path, "bomb.docx");
        OfficeFixtures.WriteZipBomb(path, 600L * 1024 * 1024);
        Assert.True(new FileInfo(path).Length < 5 * 1024 * 1024, "the bomb fixture itself should be small");

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "bomb.docx", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.Contains("600 MB", error.Message, StringComparison.Ordinal);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Highly_compressed_part_under_the_size_limits_is_refused_by_ratio()
    {
        var path = Path.Combine(_folder.Path, "ratio.docx");
        OfficeFixtures.WriteZipBomb(path, 20L * 1024 * 1024);

        var error = await Assert.ThrowsAsync<ExtractionException>(() => ExtractorFactory.Create().ExtractAsync(path, "ratio.docx", Ct));

        Assert.Equal(ExtractionException.InvalidFile, error.Code);
        Assert.Contains("decompression bomb", error.Message, StringComparison.Ordinal);
    }
}
