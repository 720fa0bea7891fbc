using System.ClientModel;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Files;
using OpenAI.VectorStores;
using Quiver.IntegrationTests.Infrastructure;

namespace Quiver.SdkTests.Infrastructure;

/// <summary>
/// The real Quiver host served by Kestrel on a free loopback port (not the in-memory test
/// server), on a temporary data directory, with a known admin key and the deterministic test
/// embedder as the default model. The OpenAI SDK clients reach it over real HTTP with only the
/// endpoint and key set.
/// </summary>
public sealed class LiveQuiver : WebApplicationFactory<Program>
{
    public const string ApiKey = "sdk-test-key";

    private readonly Lazy<Uri> _baseAddress;

    public LiveQuiver()
    {
        DataDir = Path.Combine(Path.GetTempPath(), "quiver-sdk-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDir);
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        _baseAddress = new Lazy<Uri>(() =>
        {
            StartServer();
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.TrimEnd('/') + "/");
        });
    }

    /// <summary>The deterministic embedder; tests may hold it with <see cref="TestEmbeddingGenerator.Gate"/>.</summary>
    public TestEmbeddingGenerator Embedder { get; } = new();

    public string DataDir { get; }

    /// <summary><c>http://127.0.0.1:PORT/</c> of the running server (starts it on first use).</summary>
    public Uri BaseAddress => _baseAddress.Value;

    /// <summary>The OpenAI dialect's base URL, as an SDK user would configure it.</summary>
    public Uri OpenAiEndpoint => new(BaseAddress, "v1");

    public OpenAIClient OpenAi() =>
        new(new ApiKeyCredential(ApiKey), new OpenAIClientOptions { Endpoint = OpenAiEndpoint });

    public OpenAIFileClient Files() => OpenAi().GetOpenAIFileClient();

    public VectorStoreClient VectorStores() => OpenAi().GetVectorStoreClient();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Quiver:DataDir", DataDir);
        builder.UseSetting("QUIVER_API_KEY", ApiKey);
        builder.UseSetting("Quiver:Embeddings:Default", TestEmbeddingGenerator.ModelId);
        builder.UseSetting("Quiver:Ingestion:Workers", "2");
        builder.UseEnvironment("Testing");
        builder.ConfigureServices(services => TestEmbeddingGenerator.Register(services, Embedder));
    }

    public override async ValueTask DisposeAsync()
    {
        Embedder.Gate?.TrySetResult();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
