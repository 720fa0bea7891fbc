using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Quiver.Server.Cli;

namespace Quiver.IntegrationTests;

/// <summary>
/// The start-up check that refuses settings nothing reads: every setting the docs name must pass it (else a
/// documented setting would stop the server), and mistyped ones must not.
/// </summary>
public sealed partial class SettingsCheckTests
{
    [Fact]
    public void Every_setting_the_docs_name_is_known()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Quiver.slnx")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var documents = Directory.GetFiles(Path.Combine(root.FullName, "docs"), "*.md").Append(Path.Combine(root.FullName, "README.md"));
        var keys = documents
            .SelectMany(path => DocumentedKey().Matches(File.ReadAllText(path)).Select(m => m.Groups[1].Value.Replace("__", ":", StringComparison.Ordinal)))
            .Select(key => key.Replace(":N:", ":0:", StringComparison.Ordinal).Replace(":N", ":0", StringComparison.Ordinal))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

        Assert.True(keys.Count >= 20, $"only {keys.Count} settings found in the docs");
        // A documented name is a setting the check knows, or a section of one (Quiver:Http, Quiver:Embeddings:Remote).
        var unknown = keys.Where(key => !SettingsCheck.IsKnown(key) && !SettingsCheck.IsSection(key)).ToList();
        Assert.Empty(unknown);
    }

    [Theory]
    [InlineData("Quiver:DataDir")]
    [InlineData("quiver:ingestion:workers")]
    [InlineData("Quiver:Search:PostgresStoreCacheMegabytes")]
    [InlineData("Quiver:Embeddings:Remote:0:BaseUrl")]
    [InlineData("Quiver:Embeddings:Remote:12:Dimensions")]
    [InlineData("Quiver:Auth:Audiences:0")]
    [InlineData("Quiver:Http:MaxConcurrentConnections")]
    [InlineData("Quiver:Storage:Provider")]
    [InlineData("Quiver:Telemetry:OtlpEndpoint")]
    public void A_setting_something_reads_is_known(string key) => Assert.True(SettingsCheck.IsKnown(key));

    [Theory]
    [InlineData("Quiver:DataDirectory")]
    [InlineData("Quiver:Ingestion:Workrs")]
    [InlineData("Quiver:Ingestion:Workers:0")]
    [InlineData("Quiver:Embeddings:Remote:0:BaseUrll")]
    [InlineData("Quiver:Embeddings:Remote:first:BaseUrl")]
    [InlineData("Quiver:Auth:Audiences:0:Name")]
    [InlineData("Quiver:Storage:Bogus")]
    [InlineData("Quiver:Telemetry:Traces")]
    [InlineData("Quiver:Search")]
    public void A_setting_nothing_reads_is_unknown(string key) => Assert.False(SettingsCheck.IsKnown(key));

    [Fact]
    public void Sections_are_told_from_settings()
    {
        Assert.True(SettingsCheck.IsSection("Quiver:Http"));
        Assert.True(SettingsCheck.IsSection("quiver:search"));
        Assert.False(SettingsCheck.IsSection("Quiver:Ingestion:Workers"));
        Assert.False(SettingsCheck.IsSection("Quiver:Searches"));
    }

    [Fact]
    public void An_environment_variable_with_a_typo_is_refused_with_the_closest_name()
    {
        // Quiver__Search__HnswMinChunk=5 in the environment arrives as this key.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Quiver:Ingestion:Workers"] = "2", ["Quiver:Search:HnswMinChunk"] = "5", ["Quiver"] = "" })
            .Build();

        var error = Assert.Throws<OptionsValidationException>(() => SettingsCheck.ThrowIfUnknown(configuration));

        Assert.Equal("unknown setting Quiver:Search:HnswMinChunk: nothing reads it, so it would be ignored. Did you mean Quiver:Search:HnswMinChunks? Settings are listed in docs/deployment.md.", Assert.Single(error.Failures));
    }

    [Fact]
    public void Known_settings_and_empty_sections_pass()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Quiver"] = "", ["Quiver:Ingestion:Workers"] = "2", ["Quiver:Embeddings:Remote:0:Id"] = "openai:x", ["Logging:LogLevel:Default"] = "Debug",
            })
            .Build();

        SettingsCheck.ThrowIfUnknown(configuration);
    }

    [GeneratedRegex(@"`(Quiver(?::|__)[A-Za-z0-9:_]+)`")]
    private static partial Regex DocumentedKey();
}
