using System.Text;
using Quiver.IntegrationTests.Infrastructure;
using Quiver.Tests.Extraction;

namespace Quiver.IntegrationTests.Ingestion;

/// <summary>Every supported format through the whole pipeline: upload, attach, extract, chunk, embed, publish.</summary>
public sealed class FormatIngestionTests(QuiverFactory factory) : IClassFixture<QuiverFactory>
{
    /// <summary>Format name → (file name, bytes, words that must be indexed, words that must not).</summary>
    private static (string Name, byte[] Bytes, string[] Present, string[] Absent) Fixture(string format) => format switch
    {
        "docx" => ("report.docx", DocumentFixtures.Docx("Aardvark opens the quarterly report.", "Closing capybara paragraph."),
            ["Aardvark opens the quarterly report", "capybara"], []),
        "xlsx" => ("inventory.xlsx", DocumentFixtures.Xlsx("Inventory", ["Animal", "Habitat"], ["Wombat", "Burrow"], ["Narwhal", "Arctic"]),
            ["Inventory", "Wombat", "Burrow", "Narwhal"], []),
        "pptx" => ("deck.pptx", DocumentFixtures.Pptx("Quokka roadmap slide", "Pangolin budget slide"),
            ["Quokka roadmap", "Pangolin budget"], []),
        "pdf" => ("paper.pdf", PdfFixtures.WithPages(["Okapi habitat survey", "Second line about tapirs"], ["Page two mentions axolotls"]),
            ["Okapi habitat survey", "tapirs", "axolotls"], []),
        "html" => ("page.html", Encoding.UTF8.GetBytes("""
            <!DOCTYPE html><html><head><title>HeadTitleSecret</title><style>.mongoose { color: red } StyleSecret</style>
            <script>var ScriptSecret = "lemur";</script></head>
            <body><h1>Mongoose field guide</h1><p>The <b>meerkat</b> stands guard.</p>
            <script>document.write("InlineScriptSecret")</script><noscript>NoscriptSecret</noscript>
            <p>Final paragraph on hyenas.</p></body></html>
            """),
            ["Mongoose field guide", "meerkat stands guard", "hyenas"], ["ScriptSecret", "StyleSecret", "InlineScriptSecret", "lemur", "color: red", "NoscriptSecret"]),
        "json" => ("data.json", Encoding.UTF8.GetBytes("""{"species":"Salamander","facts":["Regenerates limbs","Lives near ponds"],"count":12}"""),
            ["Salamander", "Regenerates limbs", "ponds"], []),
        "csv" => ("table.csv", Encoding.UTF8.GetBytes("name,diet\nBadger,Omnivore\nHeron,Piscivore\n"),
            ["Badger", "Omnivore", "Heron", "Piscivore"], []),
        "md" => ("notes.md", Encoding.UTF8.GetBytes("# Platypus notes\n\nThe *platypus* lays eggs.\n\n- Echidna also lays eggs\n"),
            ["Platypus notes", "lays eggs", "Echidna"], []),
        "py" => ("tool.py", Encoding.UTF8.GetBytes("def ocelot_speed(distance):\n    \"\"\"Return the jaguarundi ratio.\"\"\"\n    return distance / 2\n"),
            ["def ocelot_speed(distance)", "jaguarundi ratio"], []),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    [Theory]
    [InlineData("docx")]
    [InlineData("xlsx")]
    [InlineData("pptx")]
    [InlineData("pdf")]
    [InlineData("html")]
    [InlineData("json")]
    [InlineData("csv")]
    [InlineData("md")]
    [InlineData("py")]
    public async Task Each_format_is_extracted_chunked_and_indexed(string format)
    {
        var (name, bytes, present, absent) = Fixture(format);
        var client = factory.NewUser();
        var fileId = await client.UploadBytesAsync(name, bytes);
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        await client.AttachAsync("/v1", storeId, fileId);

        var done = await client.WaitForFileAsync("/v1", storeId, fileId);
        Assert.True((string?)done["status"] == "completed", $"{name}: {done.ToJsonString()}");
        Assert.True((long)done["usage_bytes"]! > 0);

        foreach (var prefix in new[] { "/v1", "/api/v1/llm" })
        {
            var text = await client.ParsedTextAsync(prefix, storeId, fileId);
            foreach (var word in present)
            {
                Assert.Contains(word, text);
            }

            foreach (var word in absent)
            {
                Assert.DoesNotContain(word, text);
            }
        }

        var chunks = await factory.ReadChunksAsync(storeId, fileId);
        Assert.NotEmpty(chunks);
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Index));
        var indexed = string.Join("\n", chunks.Select(c => c.Text));
        Assert.Contains(present[0], indexed);
        foreach (var word in absent)
        {
            Assert.DoesNotContain(word, indexed);
        }

        Assert.Equal(chunks.Count, await factory.CountChunksAsync(storeId));
        Assert.Equal(chunks.Count, await factory.CountFtsRowsAsync(storeId, fileId));

        var store = await client.GetJsonAsync("/v1/vector_stores/" + storeId);
        Assert.Equal(1, store.Count("completed"));
        Assert.Equal((long)done["usage_bytes"]!, (long)store["usage_bytes"]!);
    }
}
