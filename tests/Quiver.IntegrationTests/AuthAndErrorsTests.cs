using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Quiver.Core.Files;
using Quiver.Core.Keys;
using Quiver.Core.Paging;
using Quiver.Core.Tenancy;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>Authentication, keys and error envelopes on the embedded backend.</summary>
public sealed class AuthAndErrorsTests(QuiverFactory factory) : AuthAndErrorsContract<QuiverFactory>(factory);

/// <summary>The same contract on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class AuthAndErrorsPostgresTests : AuthAndErrorsContract<PostgresQuiverFactory>
{
    public AuthAndErrorsPostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();
}

/// <summary>Authentication, keys and error envelopes, run against each storage backend.</summary>
public abstract class AuthAndErrorsContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task Missing_and_invalid_keys_are_401_with_the_envelope(string prefix)
    {
        using (var response = await factory.CreateApiClient(apiKey: null).GetAsync($"{prefix}/files", Ct))
        {
            var body = await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "authentication_error", null, null);
            Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
            Assert.Contains("Authorization", (string?)body["error"]!["message"]);
        }

        using (var response = await factory.CreateApiClient(apiKey: "qvr_wrong").GetAsync($"{prefix}/files", Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "authentication_error", null, "invalid_api_key");
        }
    }

    [Fact]
    public async Task A_revoked_key_stops_working()
    {
        var store = factory.Services.GetRequiredService<IApiKeyStore>();
        var (key, secret) = await store.CreateAsync("temp", "temp-project", isAdmin: false, Ct);
        var client = factory.CreateApiClient(secret);
        Assert.Equal("list", (string?)(await client.GetJsonAsync("/v1/files"))["object"]);

        Assert.True(await store.RevokeAsync(key.Id, Ct));
        using var response = await client.GetAsync("/v1/files", Ct);
        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "authentication_error", null, "invalid_api_key");
    }

    [Theory]
    [InlineData("*")]
    [InlineData("tab\there")]
    [InlineData("151")]
    public async Task Invalid_on_behalf_of_is_400(string value)
    {
        if (value == "151")
        {
            value = new string('u', 151);
        }

        using var response = await factory.CreateApiClient(onBehalfOf: value).GetAsync("/v1/files", Ct);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "X-On-Behalf-Of", "invalid_on_behalf_of");
    }

    [Fact]
    public async Task On_behalf_of_accepts_150_printable_characters()
    {
        var user = "~ !" + new string('x', 147);
        Assert.Equal("list", (string?)(await factory.CreateApiClient(onBehalfOf: user).GetJsonAsync("/v1/files"))["object"]);
    }

    [Fact]
    public async Task Unknown_routes_and_wrong_methods_get_the_envelope()
    {
        var client = factory.CreateApiClient();
        using (var response = await client.GetAsync("/v1/no-such-thing", Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", null, "unknown_url");
        }

        using (var response = await client.GetAsync("/nothing-here", Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", null, "unknown_url");
        }

        using (var response = await client.PutAsync("/api/v1/llm/files", new StringContent(""), Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.MethodNotAllowed, "invalid_request_error", null, "method_not_allowed");
        }
    }

    [Fact]
    public async Task Health_readiness_and_docs_need_no_key()
    {
        var client = factory.CreateApiClient(apiKey: null);
        Assert.Equal("ok", (string?)(await client.GetJsonAsync("/healthz"))["status"]);
        Assert.Equal("ok", (string?)(await client.GetJsonAsync("/readyz"))["status"]);

        var openApi = await client.GetJsonAsync("/openapi/v1.json");
        var paths = openApi["paths"]!.AsObject();
        Assert.Contains("/v1/files", paths.Select(p => p.Key));
        Assert.Contains("/api/v1/llm/files/{file_id}/content", paths.Select(p => p.Key));

        using var docs = await client.GetAsync("/docs/", Ct);
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Contains("openapi/v1.json", await docs.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task The_OpenAPI_document_shows_the_request_records_of_admin_token_and_authorization_routes()
    {
        var openApi = await factory.CreateApiClient(apiKey: null).GetJsonAsync("/openapi/v1.json");
        string[] Properties(string path, string method)
        {
            var content = openApi["paths"]![path]![method]!["requestBody"]!["content"]!.AsObject();
            Assert.Equal(["application/json"], content.Select(c => c.Key));
            var schema = content["application/json"]!["schema"]!;
            if (schema["$ref"] is { } reference)
            {
                schema = openApi["components"]!["schemas"]![((string)reference!).Split('/')[^1]]!;
            }

            return [.. schema["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal)];
        }

        Assert.Equal(["admin", "name", "permissions", "project", "rate_limit"], Properties("/api/v1/admin/keys", "post"));
        Assert.Equal(["permissions", "rate_limit"], Properties("/api/v1/admin/keys/{key_id}", "post"));
        Assert.Equal(["audience", "expiresIn", "externalUserId", "permissions"], Properties("/api/v1/authentication/api-key/exchange-token", "post"));
        Assert.Equal(["resourceId", "resourceType", "role", "userId"], Properties("/api/v1/authorization/llm/grant", "post"));
        Assert.Equal(["resourceId", "resourceType", "role", "userId"], Properties("/api/v1/authorization/llm/revoke", "post"));
        Assert.Equal(["overwrite", "resourceId", "resourceType"], Properties("/api/v1/authorization/llm/create", "post"));
        Assert.Equal(["resourceId", "resourceType"], Properties("/api/v1/authorization/llm/delete", "delete"));
        Assert.Contains("input", Properties("/v1/embeddings", "post"));

        // The records' XML docs become the schema descriptions.
        var exchange = openApi["components"]!["schemas"]!["ExchangeTokenRequest"]!;
        Assert.Contains("end user", (string?)exchange["properties"]!["externalUserId"]!["description"]);
    }

    [Fact]
    public async Task Documented_admin_bodies_are_still_read_whatever_their_content_type()
    {
        // Documenting the body must not add a Content-Type constraint (Accepts<T> would answer 415).
        using var content = new StringContent("""{"name":5}""", System.Text.Encoding.UTF8, "text/plain");
        using var response = await factory.CreateApiClient().PostAsync("/api/v1/admin/keys", content, Ct);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "name", "invalid_type");
    }
}

/// <summary>A failure inside storage must become a bare 500 that reveals nothing.</summary>
public sealed class UnhandledErrorTests : IAsyncLifetime
{
    private readonly QuiverFactory _factory = new()
    {
        ConfigureTestServices = services => services.AddSingleton<IFileRepository, ExplodingFileRepository>(),
    };

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Fact]
    public async Task Unhandled_exceptions_are_500_without_internals()
    {
        using var response = await _factory.CreateApiClient().GetAsync("/v1/files", Ct);
        var body = await response.AssertErrorAsync(HttpStatusCode.InternalServerError, "server_error", null, null);
        var text = body.ToJsonString();
        Assert.DoesNotContain("SELECT", text);
        Assert.DoesNotContain("/var/secret", text);
        Assert.DoesNotContain("Exploding", text);
    }

    private sealed class ExplodingFileRepository : IFileRepository
    {
        private static Exception Boom() => new InvalidOperationException("SELECT * FROM files failed at /var/secret/quiver.db");

        public Task InsertAsync(FileRecord file, CancellationToken ct) => throw Boom();

        public Task<FileRecord?> GetAsync(Principal principal, string fileId, CancellationToken ct) => throw Boom();

        public Task<Page<FileRecord>> ListAsync(Principal principal, string? purpose, ListRequest request, CancellationToken ct) => throw Boom();

        public Task<IReadOnlyList<string>?> DeleteAsync(Principal principal, string fileId, CancellationToken ct) => throw Boom();

        // The background sweeper calls this; it answers "none" so only request paths explode.
        public Task<IReadOnlyList<(Principal Principal, string FileId)>> ListExpiredAsync(long now, int limit, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<(Principal Principal, string FileId)>>([]);
    }
}

/// <summary>Upload size limits on the embedded backend.</summary>
public sealed class UploadLimitTests() : UploadLimitContract(new QuiverFactory());

/// <summary>Upload size limits with file bytes in PostgreSQL.</summary>
public sealed class UploadLimitPostgresTests : UploadLimitContract
{
    public UploadLimitPostgresTests()
        : base(new PostgresQuiverFactory()) => PostgresTestServer.RequireOrSkip();
}

/// <summary>Upload size limits and streaming.</summary>
public abstract class UploadLimitContract(QuiverFactory factory) : IAsyncLifetime
{
    private readonly QuiverFactory _factory = factory.With("Quiver:MaxUploadBytes", "1048576");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Fact]
    public async Task An_upload_over_the_limit_is_413_and_leaves_nothing_behind()
    {
        var client = _factory.CreateApiClient();
        using var response = await client.PostAsync("/v1/files", FileForm("big.bin", new byte[1048577]), Ct);
        await response.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "file", "payload_too_large");
        Assert.Empty((await client.GetJsonAsync("/v1/files")).Ids());
        Assert.Equal(0, await _factory.CountStagedBlobsAsync());
        Assert.Equal(0, await _factory.CountBlobsAsync());

        using var exact = await client.PostAsync("/v1/files", FileForm("fits.bin", new byte[1048576]), Ct);
        Assert.Equal(1048576, (long)(await exact.ReadJsonAsync(HttpStatusCode.OK))["bytes"]!);
    }
}

/// <summary>
/// Heap measurements read the whole test process's managed heap, so they run alone, after the
/// parallel tests (other tests' allocations would count as growth).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurementCollection
{
    public const string Name = "heap-measurement";
}

/// <summary>Streaming upload on the embedded backend.</summary>
[Collection(HeapMeasurementCollection.Name)]
public sealed class StreamingUploadTests() : StreamingUploadContract(new QuiverFactory());

/// <summary>Streaming upload (and download) with file bytes in PostgreSQL.</summary>
[Collection(HeapMeasurementCollection.Name)]
public sealed class StreamingUploadPostgresTests : StreamingUploadContract
{
    public StreamingUploadPostgresTests()
        : base(new PostgresQuiverFactory()) => PostgresTestServer.RequireOrSkip();
}

/// <summary>A 50 MB upload is streamed: the server's managed heap does not grow by the file's size.</summary>
public abstract class StreamingUploadContract(QuiverFactory factory) : IAsyncLifetime
{
    private readonly QuiverFactory _factory = factory;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Fact]
    public async Task A_50_MB_upload_does_not_grow_the_heap_by_its_size()
    {
        const long size = 50L * 1024 * 1024;
        var client = _factory.CreateApiClient();
        await client.GetJsonAsync("/v1/files"); // warm up the host

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                await Task.Delay(5, CancellationToken.None);
            }
        }, CancellationToken.None);

        using var form = new MultipartFormDataContent();
        form.Add(new StreamContent(new PatternStream(size), 64 * 1024), "file", "big.bin");
        form.Add(new StringContent("assistants"), "purpose");
        using var response = await client.PostAsync("/v1/files", form, Ct);
        var file = await response.ReadJsonAsync(HttpStatusCode.OK);
        await sampling.CancelAsync();
        await sampler;

        Assert.Equal(size, (long)file["bytes"]!);
        Assert.Equal(size, await _factory.BlobLengthAsync((string)file["id"]!));
        var growth = peak - baseline;
        Assert.True(growth < 20L * 1024 * 1024, $"Managed heap grew by {growth / 1024 / 1024} MB during a 50 MB upload.");

        // And back: the download streams the same bytes.
        using var download = await client.GetAsync($"/v1/files/{(string)file["id"]!}/content", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        await using var body = await download.Content.ReadAsStreamAsync(Ct);
        var expected = new PatternStream(size);
        var got = new byte[81920];
        var want = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(got, Ct)) > 0)
        {
            var n = expected.Read(want, 0, read);
            Assert.Equal(read, n);
            Assert.True(got.AsSpan(0, read).SequenceEqual(want.AsSpan(0, read)), $"Downloaded bytes differ near offset {total}.");
            total += read;
        }

        Assert.Equal(size, total);
    }

    /// <summary>A read-only stream of <c>length</c> generated bytes; nothing is held in memory.</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = (byte)((_position + i) % 251);
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
