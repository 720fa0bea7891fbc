namespace Quiver.Client;

/// <summary>
/// Typed client for the Quiver MKA1 dialect (<c>/api/v1/llm</c>): <see cref="Files"/> mirrors
/// <c>sdk.llm.files.*</c>, <see cref="VectorStores"/> mirrors <c>sdk.llm.vectorStores.*</c>.
/// Non-2xx answers throw <see cref="QuiverApiException"/>.
/// </summary>
public sealed class QuiverClient : IDisposable
{
    private readonly HttpClient? _ownedHttp;

    /// <summary>A client over <paramref name="http"/> (not disposed by this client).</summary>
    public QuiverClient(HttpClient http, QuiverClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        var transport = new QuiverTransport(http, options);
        Files = new FilesClient(transport);
        VectorStores = new VectorStoresClient(transport, Files);
    }

    /// <summary>A client with its own <see cref="HttpClient"/> for <paramref name="baseAddress"/> (e.g. <c>http://127.0.0.1:8080</c>).</summary>
    public QuiverClient(Uri baseAddress, string apiKey, string? onBehalfOf = null)
        : this(new HttpClient { Timeout = TimeSpan.FromMinutes(10) }, new QuiverClientOptions { BaseAddress = baseAddress, ApiKey = apiKey, OnBehalfOf = onBehalfOf }, owned: true)
    {
    }

    private QuiverClient(HttpClient http, QuiverClientOptions options, bool owned)
        : this(http, options)
    {
        if (owned)
        {
            _ownedHttp = http;
        }
    }

    /// <summary>Files: upload, list, get, delete, content.</summary>
    public FilesClient Files { get; }

    /// <summary>Vector stores, their files, batches, search and polling helpers.</summary>
    public VectorStoresClient VectorStores { get; }

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it.</summary>
    public void Dispose() => _ownedHttp?.Dispose();
}
