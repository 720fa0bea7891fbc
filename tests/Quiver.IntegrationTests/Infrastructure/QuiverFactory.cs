using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Quiver.IntegrationTests.Infrastructure;

/// <summary>
/// A Quiver host on a fresh temporary data directory (or, through <see cref="OnDataDir"/>, on an
/// existing one, to restart on the same data), with a known admin key. Settings can be
/// overridden per factory; services can be swapped through <see cref="ConfigureTestServices"/>.
/// </summary>
public class QuiverFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key";

    private readonly Dictionary<string, string?> _settings = new(StringComparer.Ordinal);

    /// <summary>True when this factory deletes its storage (<see cref="DataDir"/>, and a backend's database) on dispose.</summary>
    private bool _ownsStorage;

    public QuiverFactory()
        : this(null)
    {
    }

    /// <summary>A host on an existing data directory (e.g. a restart); the directory is not deleted on dispose.</summary>
    public static QuiverFactory OnDataDir(string dataDir) => new(dataDir);

    /// <remarks>Internal, not public: xunit requires a fixture type to have a single public constructor.</remarks>
    /// <param name="dataDir">An existing data directory to reuse (e.g. another factory's, to restart on its data); it is not deleted on dispose. Null: a fresh temporary one.</param>
    internal QuiverFactory(string? dataDir)
    {
        _ownsStorage = dataDir is null;
        DataDir = dataDir ?? Path.Combine(Path.GetTempPath(), "quiver-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDir);
        _settings["Quiver:DataDir"] = DataDir;
        _settings["QUIVER_API_KEY"] = AdminKey;
        _settings["Quiver:Embeddings:Default"] = TestEmbeddingGenerator.ModelId;
        _settings["Quiver:Ingestion:Workers"] = "2";
    }

    /// <summary>The deterministic embedder registered as the default model (unless <see cref="UseRealEmbeddings"/>).</summary>
    public TestEmbeddingGenerator Embedder { get; } = new();

    /// <summary>Use the configured local ONNX models instead of the test embedder.</summary>
    public bool UseRealEmbeddings { get; init; }

    public string DataDir { get; }

    /// <summary>Extra service registrations applied after the app's own.</summary>
    public Action<IServiceCollection>? ConfigureTestServices { get; init; }

    /// <summary>Whether disposing this factory deletes its storage.</summary>
    protected bool OwnsStorage => _ownsStorage;

    /// <summary>
    /// A second factory on this one's storage and settings, to restart on the same data: it takes
    /// over the storage (this factory no longer deletes it), so dispose this one first, then it.
    /// </summary>
    public QuiverFactory Reopen()
    {
        var next = CreateOnSameStorage();
        foreach (var (key, value) in _settings)
        {
            next._settings[key] = value;
        }

        next._ownsStorage = _ownsStorage;
        _ownsStorage = false;
        return next;
    }

    /// <summary>A factory on the same storage, for <see cref="Reopen"/>; backends with a database override it.</summary>
    protected virtual QuiverFactory CreateOnSameStorage() => new(DataDir);

    /// <summary>Sets a configuration value before the host starts.</summary>
    public QuiverFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            if (UseRealEmbeddings && key == "Quiver:Embeddings:Default")
            {
                continue; // the server's own default model
            }

            builder.UseSetting(key, value);
        }

        builder.UseEnvironment("Testing");
        if (!UseRealEmbeddings)
        {
            builder.ConfigureServices(services => TestEmbeddingGenerator.Register(services, Embedder));
        }

        if (ConfigureTestServices is { } configure)
        {
            builder.ConfigureServices(configure);
        }
    }

    /// <summary>A client authenticated with <paramref name="apiKey"/> (admin by default), optionally on behalf of a user.</summary>
    public HttpClient CreateApiClient(string? apiKey = AdminKey, string? onBehalfOf = null)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (onBehalfOf is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("X-On-Behalf-Of", onBehalfOf);
        }

        return client;
    }

    /// <summary>Disposes the host, then removes the data directory.</summary>
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
        if (!_ownsStorage)
        {
            return;
        }

        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
