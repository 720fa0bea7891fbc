using System.Text;
using Format = Quiver.Core.Extraction.DocumentKind;

namespace Quiver.Tests.Extraction;

public sealed class TextFormatExtractionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Plain_text_keeps_paragraphs_and_normalises_whitespace_and_line_endings()
    {
        var path = _folder.Write("notes.txt", "  First   line\twith\t\ttabs  \r\nsecond line\r\n\r\n\r\n\r\nNew paragraph\rold mac ending\n\n");

        var result = await ExtractorFactory.Create().ExtractAsync(path, "notes.txt", Ct);

        Assert.Equal("First line with tabs\nsecond line\n\nNew paragraph\nold mac ending", result.Text);
        Assert.Equal(Format.PlainText, result.Format);
        Assert.Equal("text/plain", result.MimeType);
        Assert.Null(result.PageCount);
    }

    [Fact]
    public async Task Utf8_with_bom_does_not_leak_the_bom()
    {
        var path = _folder.Write("bom.txt", [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("Gemütlichkeit")]);

        var result = await ExtractorFactory.Create().ExtractAsync(path, "bom.txt", Ct);

        Assert.Equal("Gemütlichkeit", result.Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Utf16_text_with_bom_is_decoded(bool bigEndian)
    {
        var encoding = new UnicodeEncoding(bigEndian, byteOrderMark: true);
        var path = _folder.Write("wide.txt", [.. encoding.GetPreamble(), .. encoding.GetBytes("Ünïcödé heron\r\nsecond line")]);

        var result = await ExtractorFactory.Create().ExtractAsync(path, "wide.txt", Ct);

        Assert.Equal("Ünïcödé heron\nsecond line", result.Text);
        Assert.Equal(Format.PlainText, result.Format);
    }

    [Fact]
    public async Task Latin1_text_is_read_when_it_is_not_utf8()
    {
        var path = _folder.Write("legacy.txt", Encoding.Latin1.GetBytes("Café crème brûlée"));

        var result = await ExtractorFactory.Create().ExtractAsync(path, "legacy.txt", Ct);

        Assert.Equal("Café crème brûlée", result.Text);
    }

    [Fact]
    public async Task Markdown_is_extracted_as_text()
    {
        var path = _folder.Write("readme.md", "# Title kestrel\n\nSome *emphasis* here.\n\n- item one\n- item two\n");

        var result = await ExtractorFactory.Create().ExtractAsync(path, "readme.md", Ct);

        Assert.Equal(Format.Markdown, result.Format);
        Assert.Equal("# Title kestrel\n\nSome *emphasis* here.\n\n- item one\n- item two", result.Text);
    }

    [Fact]
    public async Task Source_code_keeps_its_indentation()
    {
        const string Code = "def pelican(x):\n    if x:\n        return  x\n\n\n\n    return None\n";
        var path = _folder.Write("bird.py", Code);

        var result = await ExtractorFactory.Create().ExtractAsync(path, "bird.py", Ct);

        Assert.Equal(Format.SourceCode, result.Format);
        Assert.Equal("def pelican(x):\n    if x:\n        return  x\n\n    return None", result.Text);
    }

    [Fact]
    public async Task Html_yields_visible_text_only_with_paragraph_breaks()
    {
        const string Html = """
            <!DOCTYPE html>
            <html><head><title>HeadTitleSecret</title>
            <style>.x { color: red } /* StyleSecret */</style>
            <script>var ScriptSecretInHead = 1;</script></head>
            <body>
              <script>document.write("ScriptSecret");</script>
              <noscript>NoscriptSecret</noscript>
              <template><p>TemplateSecret</p></template>
              <h1>Platypus   handbook</h1>
              <p>First <b>bold</b> paragraph
                 spanning source lines.</p>
              <div hidden>HiddenSecret</div>
              <p>Line one<br>line two</p>
              <ul><li>alpha item</li><li>beta item</li></ul>
              <table><tr><th>Name</th><th>Age</th></tr><tr><td>Ada</td><td>36</td></tr></table>
              <pre>keep   this
              spacing</pre>
            </body></html>
            """;
        var path = _folder.Write("page.html", Html);

        var result = await ExtractorFactory.Create().ExtractAsync(path, "page.html", Ct);

        Assert.Equal(Format.Html, result.Format);
        foreach (var secret in new[] { "HeadTitleSecret", "StyleSecret", "ScriptSecret", "NoscriptSecret", "TemplateSecret", "HiddenSecret", "color: red" })
        {
            Assert.DoesNotContain(secret, result.Text, StringComparison.Ordinal);
        }

        Assert.Contains("Platypus handbook\n\nFirst bold paragraph spanning source lines.\n\nLine one\nline two", result.Text, StringComparison.Ordinal);
        Assert.Contains("alpha item\nbeta item", result.Text, StringComparison.Ordinal);
        Assert.Contains("Name | Age\nAda | 36", result.Text, StringComparison.Ordinal);
        Assert.Contains("keep this", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_keeps_keys_and_values_searchable()
    {
        const string Json = """
            {"title": "Manatee survey", "count": 12, "active": true, "missing": null,
             "location": {"city": "Tampa", "coords": [27.9, -82.4]},
             "tags": ["marine", "mammal"]}
            """;
        var path = _folder.Write("survey.json", Json);

        var result = await ExtractorFactory.Create().ExtractAsync(path, "survey.json", Ct);

        Assert.Equal(Format.Json, result.Format);
        Assert.Equal(
            "title: Manatee survey\ncount: 12\nactive: true\nlocation.city: Tampa\nlocation.coords: 27.9\nlocation.coords: -82.4\ntags: marine\ntags: mammal",
            result.Text);
    }

    [Fact]
    public async Task Json_lines_become_one_paragraph_per_record()
    {
        var path = _folder.Write("events.jsonl", "{\"event\":\"login\",\"user\":\"ocelot\"}\n{\"event\":\"logout\",\"user\":\"ocelot\"}\n");

        var result = await ExtractorFactory.Create().ExtractAsync(path, "events.jsonl", Ct);

        Assert.Equal("event: login\nuser: ocelot\n\nevent: logout\nuser: ocelot", result.Text);
    }

    [Fact]
    public async Task Json_larger_than_the_read_buffer_is_streamed()
    {
        var records = Enumerable.Range(0, 5_000).Select(i => $"{{\"id\":{i},\"name\":\"item-{i}\"}}");
        var path = _folder.Write("big.json", "[" + string.Join(",", records) + "]");

        var result = await ExtractorFactory.Create().ExtractAsync(path, "big.json", Ct);

        Assert.StartsWith("id: 0\nname: item-0\n\nid: 1", result.Text, StringComparison.Ordinal);
        Assert.EndsWith("id: 4999\nname: item-4999", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_json_falls_back_to_its_text()
    {
        var path = _folder.Write("broken.json", "{\"name\": \"tapir\", oops");

        var result = await ExtractorFactory.Create().ExtractAsync(path, "broken.json", Ct);

        Assert.Equal("{\"name\": \"tapir\", oops", result.Text);
    }

    [Fact]
    public async Task Csv_rows_become_header_value_pairs_with_quoted_fields()
    {
        const string Csv = "name,city,notes\r\nAda,London,\"likes \"\"engines\"\", and math\"\r\nGrace,\"New\nYork\",\r\n";
        var path = _folder.Write("people.csv", Csv);

        var result = await ExtractorFactory.Create().ExtractAsync(path, "people.csv", Ct);

        Assert.Equal(Format.Csv, result.Format);
        Assert.Equal(
            "name | city | notes\nname: Ada; city: London; notes: likes \"engines\", and math\nname: Grace; city: New York",
            result.Text);
    }

    [Fact]
    public async Task Semicolon_csv_and_tsv_are_split_on_their_delimiter()
    {
        var semicolon = _folder.Write("eu.csv", "Produkt;Preis\nKäse;3,50\n");
        var tsv = _folder.Write("data.tsv", "species\tweight\nmoose\t500\n");
        var extractor = ExtractorFactory.Create();

        var eu = await extractor.ExtractAsync(semicolon, "eu.csv", Ct);
        var tab = await extractor.ExtractAsync(tsv, "data.tsv", Ct);

        Assert.Equal("Produkt | Preis\nProdukt: Käse; Preis: 3,50", eu.Text);
        Assert.Equal("species | weight\nspecies: moose; weight: 500", tab.Text);
    }

    [Fact]
    public async Task Csv_without_a_header_row_renders_values()
    {
        var path = _folder.Write("numbers.csv", "1,2,3\n4,5,6\n");

        var result = await ExtractorFactory.Create().ExtractAsync(path, "numbers.csv", Ct);

        Assert.Equal("1 | 2 | 3\n4 | 5 | 6", result.Text);
    }
}
