using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Hostile;

/// <summary>
/// Thousands of malformed requests over every route, sent to a real Kestrel socket: garbage and deeply nested
/// JSON, a wrong type in every field, 1 MB strings, invalid UTF-8, bad multipart, traversal and control characters
/// in file names and ids, odd headers and credentials, extreme query values, and raw malformed HTTP. Asserted:
/// no 5xx, every request answered (no dropped connection), every 4xx the application writes carries the OpenAI
/// error envelope, no mutating request succeeds, and storage (every table's row count, the stored and staged
/// file bytes, and what the API lists) is exactly as before. Requests are generated from a fixed seed.
/// </summary>
public abstract class HostileRequestsContract(QuiverFactory factory) : IAsyncLifetime
{
    private const string User = "hostile-user";
    private const int Seed = 20261207;
    private static readonly string OneMegabyte = new('x', 1_000_000);

    private readonly Random _random = new(Seed);
    private readonly List<string> _failures = [];
    private Uri _base = null!;
    private HttpClient _client = null!;
    private string _store = null!, _attached = null!, _loose = null!, _batch = null!, _keyId = null!;
    private int _sent;

    public async ValueTask InitializeAsync()
    {
        factory.UseKestrel(0);
        factory.StartServer();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        _base = new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        _client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(60) };

        // What the hostile requests aim at: a store with a completed file (attached by a batch), an unattached
        // upload, and a second API key.
        _store = (string)(await PostAsync("/v1/vector_stores", """{"name":"target","metadata":{"team":"red"}}"""))["id"]!;
        _attached = (string)(await UploadAsync("target.md", "The hostile lighthouse keeps its light."))["id"]!;
        _loose = (string)(await UploadAsync("loose.txt", "An unattached upload."))["id"]!;
        _batch = (string)(await PostAsync($"/v1/vector_stores/{_store}/file_batches", $$"""{"file_ids":["{{_attached}}"]}"""))["id"]!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((string?)(await GetAsync($"/v1/vector_stores/{_store}/file_batches/{_batch}"))["status"] != "completed")
        {
            Assert.True(DateTime.UtcNow < deadline, "the setup batch did not complete");
            await Task.Delay(50, Ct);
        }

        using var keyRequest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/keys") { Content = Json("""{"name":"hostile-second-key"}""") };
        keyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", QuiverFactory.AdminKey);
        using var keyResponse = await _client.SendAsync(keyRequest, Ct);
        _keyId = (string)(await keyResponse.ReadJsonAsync(HttpStatusCode.OK))["id"]!;
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        await factory.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Malformed_requests_on_every_route_get_a_4xx_envelope_and_change_nothing()
    {
        var before = await SnapshotAsync();

        foreach (var prefix in new[] { "/v1", "/api/v1/llm" })
        {
            await JsonRoutesAsync(prefix);
            await ReadRoutesAsync(prefix);
            await UploadsAsync(prefix);
            await DestructiveRoutesWithBadIdsAsync(prefix);
        }

        await AccessRoutesAsync();
        await CredentialsAsync();
        await RawHttpAsync();

        Assert.True(_failures.Count == 0, $"{_failures.Count} of {_sent} requests misbehaved:\n{string.Join("\n", _failures.Take(60))}");
        var after = await SnapshotAsync();
        Assert.Equal(before, after);
        Assert.True(_sent >= 2000, $"only {_sent} requests were sent");
        TestContext.Current.TestOutputHelper?.WriteLine($"{_sent} malformed requests, all answered as asserted");
    }

    // ---------------------------------------------------------------- JSON bodies

    /// <summary>A JSON route: a valid body, and the kind of each field that can be made wrong in it.</summary>
    private sealed record JsonRoute(string Path, string ValidBody, (string Field, string Kind)[] Fields, bool EmptyIsValid = false)
    {
        /// <summary>A route with the large JSON body limit (file batches, embeddings).</summary>
        public bool Large => Path.EndsWith("/file_batches", StringComparison.Ordinal) || Path.EndsWith("/embeddings", StringComparison.Ordinal);
    }

    private IEnumerable<JsonRoute> JsonRouteList(string prefix) =>
    [
        new($"{prefix}/vector_stores", """{"name":"new"}""",
            [("name", "s"), ("description", "s"), ("metadata", "m"), ("expires_after", "e"), ("chunking_strategy", "c"), ("file_ids", "a"), ("embedding_model", "s")], EmptyIsValid: true),
        new($"{prefix}/vector_stores/{_store}", """{"name":"renamed"}""",
            [("name", "s"), ("metadata", "m"), ("expires_after", "e")], EmptyIsValid: true),
        new($"{prefix}/vector_stores/{_store}/files", $$"""{"file_id":"{{_loose}}"}""",
            [("file_id", "s"), ("attributes", "m"), ("chunking_strategy", "c")]),
        new($"{prefix}/vector_stores/{_store}/files/{_attached}", """{"attributes":{"a":"b"}}""", [("attributes", "m")]),
        new($"{prefix}/vector_stores/{_store}/file_batches", $$"""{"file_ids":["{{_loose}}"]}""",
            [("file_ids", "a"), ("attributes", "m"), ("chunking_strategy", "c"), ("files", "a")]),
        new($"{prefix}/vector_stores/{_store}/search", """{"query":"lighthouse"}""",
            [("query", "q"), ("filters", "f"), ("max_num_results", "i"), ("ranking_options", "r"), ("rewrite_query", "b")]),
        new($"{prefix}/embeddings", """{"input":"hello","model":"test-embeddings"}""",
            [("input", "q"), ("model", "s"), ("encoding_format", "s"), ("dimensions", "i")]),
    ];

    private async Task JsonRoutesAsync(string prefix)
    {
        foreach (var route in JsonRouteList(prefix))
        {
            await JsonRouteAsync(route);
        }
    }

    private async Task JsonRouteAsync(JsonRoute route)
    {
        foreach (var (field, kind) in route.Fields)
        {
            foreach (var wrong in WrongValues(kind))
            {
                // Spliced as text: some wrong values (a 200-level filter) are deeper than a JsonNode may be.
                var rest = JsonNode.Parse(route.ValidBody)!.AsObject();
                rest.Remove(field);
                var others = rest.ToJsonString();
                var body = $"{{\"{field}\":{wrong ?? "null"}{(rest.Count > 0 ? "," + others[1..] : "}")}";
                await MutationAsync(HttpMethod.Post, route.Path, body, $"{field}={Shorten(wrong)}");
            }
        }

        // Several fields wrong at once, drawn from the seed: the first error found must still be a clean 400.
        for (var i = 0; i < 40; i++)
        {
            var rest = JsonNode.Parse(route.ValidBody)!.AsObject();
            var wrongFields = route.Fields.OrderBy(_ => _random.Next()).Take(_random.Next(2, 4)).ToList();
            var parts = new List<string>();
            foreach (var (field, kind) in wrongFields)
            {
                rest.Remove(field);
                var values = WrongValues(kind).ToList();
                parts.Add($"\"{field}\":{values[_random.Next(values.Count)] ?? "null"}");
            }

            parts.AddRange(rest.Select(p => $"\"{p.Key}\":{p.Value!.ToJsonString()}"));
            await MutationAsync(HttpMethod.Post, route.Path, "{" + string.Join(",", parts.OrderBy(_ => _random.Next())) + "}", "fields " + string.Join("+", wrongFields.Select(f => f.Field)));
        }

        foreach (var (label, bytes) in WholeBodies(route.EmptyIsValid))
        {
            // Over 1 MiB is refused as too large on ordinary routes; batches and embeddings take up to 32 MiB, so there it is just invalid.
            int? expected = label == "over the body limit" ? route.Large ? 400 : 413 : null;
            await MutationAsync(HttpMethod.Post, route.Path, bytes, label, expected: expected);
        }

        foreach (var contentType in new[] { "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/json; charset=utf-16" })
        {
            await MutationAsync(HttpMethod.Post, route.Path, Encoding.UTF8.GetBytes("{\"name\": 5"), $"content-type {contentType}", contentType);
        }

        // The right body against a store or file that does not exist, or an id that is no id at all.
        foreach (var id in HostileIds())
        {
            var path = route.Path.Replace(_store, id, StringComparison.Ordinal);
            if (path != route.Path)
            {
                await MutationAsync(HttpMethod.Post, path, route.ValidBody, "hostile store id");
            }
        }
    }

    private static IEnumerable<string?> WrongValues(string kind)
    {
        var tooMany = "{" + string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"k{i}\":\"v\"")) + "}";
        var deepFilter = string.Concat(Enumerable.Repeat("""{"type":"and","filters":[""", 200)) + """{"key":"a","type":"eq","value":1}""" + string.Concat(Enumerable.Repeat("]}", 200));
        return kind switch
        {
            "s" => ["12345", "true", "[]", "{}", "\"" + OneMegabyte + "\"", "\"\\u0000\""],
            "m" => ["\"str\"", "5", "[]", """{"k":{"deep":1}}""", """{"k":[1,2]}""", tooMany, "{\"" + new string('k', 65) + "\":\"v\"}", "{\"k\":\"" + new string('v', 513) + "\"}", """{"k":null}"""],
            "c" => ["\"str\"", "5", """{"type":"bogus"}""", """{"type":"static"}""", """{"type":"static","static":{"max_chunk_size_tokens":50,"chunk_overlap_tokens":0}}""",
                """{"type":"static","static":{"max_chunk_size_tokens":800,"chunk_overlap_tokens":600}}""", """{"type":"static","static":{"max_chunk_size_tokens":"800","chunk_overlap_tokens":400}}"""],
            "e" => ["\"str\"", "5", """{"anchor":"bogus","days":1}""", """{"anchor":"last_active_at","days":0}""", """{"anchor":"last_active_at","days":366}""", """{"anchor":"last_active_at","days":"1"}""", """{"anchor":"last_active_at"}"""],
            "a" => ["\"x\"", "5", "[1]", "[null]", "[{}]", "[\"\"]", "[\"" + new string('f', 1000) + "\"]", "[" + string.Join(",", Enumerable.Range(0, 3000).Select(i => $"\"file-{i}\"")) + "]", "{}"],
            "q" => ["5", "[]", "[5]", "\"\"", "\"   \"", "\"" + new string('q', 5000) + "\"", "{}", "true"],
            "f" => ["\"str\"", "5", "[]", "{}", """{"type":"eq"}""", """{"key":"a","type":"bogus","value":1}""", """{"type":"and","filters":"x"}""",
                """{"type":"and","filters":[{"type":"or"}]}""", """{"key":"a","type":"eq","value":{"x":1}}""", """{"key":"a","type":"in","value":"x"}""", deepFilter],
            "i" => ["\"5\"", "-1", "0", "1e400", "1.5", "2147483648", "true", "100000"],
            "b" => ["\"yes\"", "1", "{}"],
            "r" => ["\"x\"", "5", """{"ranker":"bogus"}""", """{"score_threshold":2}""", """{"score_threshold":"0.5"}""", """{"hybrid_search":"x"}"""],
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown field kind"),
        };
    }

    private IEnumerable<(string Label, byte[] Body)> WholeBodies(bool emptyIsValid)
    {
        var deepArray = new string('[', 100_000) + new string(']', 100_000);
        var deepObject = string.Concat(Enumerable.Repeat("{\"a\":", 70)) + "1" + new string('}', 70);
        var garbage = new byte[512];
        _random.NextBytes(garbage);
        var bodies = new List<(string, byte[])>
        {
            ("truncated", "{\"name\":"u8.ToArray()),
            ("array root", "[]"u8.ToArray()),
            ("string root", "\"x\""u8.ToArray()),
            ("number root", "123"u8.ToArray()),
            ("null root", "null"u8.ToArray()),
            ("random bytes", garbage),
            ("invalid UTF-8 in a string", [.. "{\"name\":\""u8, 0xFF, 0xFE, 0xC3, .. "\"}"u8]),
            ("overlong UTF-8", [.. "{\"query\":\""u8, 0xC0, 0xAF, .. "\"}"u8]),
            ("lone surrogate escape", "{\"name\":\"\\ud800\",\"query\":\"\\udfff\"}"u8.ToArray()),
            ("deep array", Encoding.ASCII.GetBytes(deepArray)),
            ("deep object", Encoding.ASCII.GetBytes(deepObject)),
            ("duplicate keys", "{\"name\":\"a\",\"name\":5,\"query\":5}"u8.ToArray()),
            ("trailing garbage", "{\"query\":5} trailing"u8.ToArray()),
            ("comment", "{/* c */ \"query\": 5}"u8.ToArray()),
            ("over the body limit", Encoding.ASCII.GetBytes("{\"name\":\"" + new string('z', 2 * 1024 * 1024) + "\"}")),
            ("2 MiB of whitespace and a wrong field", Encoding.ASCII.GetBytes(new string(' ', 2 * 1024 * 1024) + "{\"query\":5}")),
        };
        if (!emptyIsValid)
        {
            bodies.Add(("empty", []));
            bodies.Add(("whitespace", "  \r\n "u8.ToArray()));
        }

        return bodies;
    }

    // ---------------------------------------------------------------- reads, uploads, deletes

    private async Task ReadRoutesAsync(string prefix)
    {
        string[] queries =
        [
            "limit=-1", "limit=abc", "limit=0", "limit=101", "limit=1e9", "limit=99999999999999999999", "order=sideways", "after=%00",
            "after=" + new string('a', 5000), "before=file-%2e%2e%2f", "filter=bogus", "limit=5&limit=6", "order=asc&order=desc", "%ff=%fe",
            "limit=%E2%80%AE5", "after=vs_" + new string('9', 300),
        ];
        string[] paths =
        [
            $"{prefix}/files", $"{prefix}/vector_stores", $"{prefix}/vector_stores/{_store}/files", $"{prefix}/vector_stores/{_store}/file_batches/{_batch}/files",
        ];
        foreach (var path in paths)
        {
            foreach (var query in queries)
            {
                await ReadAsync($"{path}?{query}");
            }
        }

        foreach (var id in HostileIds().Append("%2e%2e"))
        {
            foreach (var template in new[]
            {
                "{p}/files/{id}", "{p}/files/{id}/content", "{p}/vector_stores/{id}", "{p}/vector_stores/{id}/files", "{p}/vector_stores/{s}/files/{id}",
                "{p}/vector_stores/{s}/files/{id}/content", "{p}/vector_stores/{s}/file_batches/{id}", "{p}/vector_stores/{s}/file_batches/{id}/files",
                "{p}/vector_stores/{id}/files/{f}",
            })
            {
                await ReadAsync(template.Replace("{p}", prefix).Replace("{s}", _store).Replace("{f}", _attached).Replace("{id}", id));
            }
        }
    }

    private async Task UploadsAsync(string prefix)
    {
        var path = $"{prefix}/files";
        string[] badNames = ["../../etc/passwd", "..", ".", "a/b.txt", "a\\b.txt", "nul\u0000.txt", "bell\u0007.txt", "new\nline.txt", new string('n', 300) + ".txt", " ", "\u202Etxt.exe"];
        foreach (var name in badNames)
        {
            await MultipartAsync(path, "file-name " + Shorten(name), Form(name, "hello", "assistants"));
        }

        await MultipartAsync(path, "purpose bogus", Form("ok.txt", "hello", "bogus"));
        await MultipartAsync(path, "purpose missing", Form("ok.txt", "hello", null));
        await MultipartAsync(path, "purpose 1 MB", Form("ok.txt", "hello", OneMegabyte));
        await MultipartAsync(path, "expires_after anchor bogus", Form("ok.txt", "hello", "assistants", ("expires_after[anchor]", "bogus"), ("expires_after[seconds]", "3600")));
        await MultipartAsync(path, "expires_after seconds too small", Form("ok.txt", "hello", "assistants", ("expires_after[anchor]", "created_at"), ("expires_after[seconds]", "5")));
        await MultipartAsync(path, "expires_after seconds not a number", Form("ok.txt", "hello", "assistants", ("expires_after[anchor]", "created_at"), ("expires_after[seconds]", "soon")));

        var noFile = new MultipartFormDataContent { { new StringContent("assistants"), "purpose" } };
        await MultipartAsync(path, "no file part", noFile);
        var twoFiles = Form("one.txt", "1", "assistants");
        twoFiles.Add(new ByteArrayContent("2"u8.ToArray()), "file", "two.txt");
        await MultipartAsync(path, "two file parts", twoFiles);

        var raw = new (string Label, string ContentType, string Body)[]
        {
            ("no boundary", "multipart/form-data", "--x\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--x--\r\n"),
            ("boundary mismatch", "multipart/form-data; boundary=abc", "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhi\r\n--xyz--\r\n"),
            ("truncated", "multipart/form-data; boundary=abc", "--abc\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhalf a fi"),
            ("header without colon", "multipart/form-data; boundary=abc", "--abc\r\nnot a header\r\n\r\nhi\r\n--abc--\r\n"),
            ("part without disposition", "multipart/form-data; boundary=abc", "--abc\r\nContent-Type: text/plain\r\n\r\nhi\r\n--abc--\r\n"),
            ("boundary too long", "multipart/form-data; boundary=" + new string('b', 200), "--x--\r\n"),
            ("json body", "application/json", "{\"file\":\"hello\",\"purpose\":\"assistants\"}"),
            ("empty body", "multipart/form-data; boundary=abc", ""),
        };
        foreach (var (label, contentType, body) in raw)
        {
            await MutationAsync(HttpMethod.Post, path, Encoding.UTF8.GetBytes(body), "multipart " + label, contentType);
        }
    }

    private async Task DestructiveRoutesWithBadIdsAsync(string prefix)
    {
        foreach (var id in HostileIds())
        {
            await MutationAsync(HttpMethod.Delete, $"{prefix}/files/{id}", (byte[]?)null, "delete file");
            await MutationAsync(HttpMethod.Delete, $"{prefix}/vector_stores/{id}", (byte[]?)null, "delete store");
            await MutationAsync(HttpMethod.Delete, $"{prefix}/vector_stores/{_store}/files/{id}", (byte[]?)null, "detach");
            await MutationAsync(HttpMethod.Delete, $"{prefix}/vector_stores/{id}/files/{_attached}", (byte[]?)null, "detach from a bad store");
            await MutationAsync(HttpMethod.Post, $"{prefix}/vector_stores/{_store}/file_batches/{id}/cancel", (byte[]?)null, "cancel");
            await MutationAsync(HttpMethod.Post, $"{prefix}/vector_stores/{id}/file_batches/{_batch}/cancel", (byte[]?)null, "cancel in a bad store");
        }
    }

    // ---------------------------------------------------------------- access control, keys, tokens

    private async Task AccessRoutesAsync()
    {
        const string access = "/api/v1/authorization/llm";
        var grant = new JsonRoute($"{access}/grant", $$"""{"resourceType":"vector_store","resourceId":"{{_store}}","userId":"someone","role":"reader"}""",
            [("resourceType", "s"), ("resourceId", "s"), ("userId", "s"), ("role", "s")]);
        var revoke = grant with { Path = $"{access}/revoke", Fields = [("resourceType", "s"), ("resourceId", "s"), ("userId", "s"), ("role", "s")] };
        var create = new JsonRoute($"{access}/create", """{"resourceType":"vector_store","resourceId":"vs_doesnotexist"}""", [("resourceType", "s"), ("resourceId", "s"), ("overwrite", "b")]);
        var keys = new JsonRoute("/api/v1/admin/keys", """{"name":"made-by-fuzz"}""", [("name", "s"), ("project", "s"), ("admin", "b"), ("rate_limit", "s"), ("permissions", "a")]);
        var updateKey = new JsonRoute($"/api/v1/admin/keys/{_keyId}", """{"rate_limit":"10/s"}""", [("rate_limit", "s"), ("permissions", "a")]);
        var exchange = new JsonRoute("/api/v1/authentication/api-key/exchange-token", """{"audience":"quiver","externalUserId":"end-user"}""",
            [("audience", "s"), ("externalUserId", "s"), ("expiresIn", "i"), ("permissions", "a")]);
        foreach (var route in new[] { grant, revoke, create, keys, updateKey, exchange })
        {
            await JsonRouteAsync(route);
        }

        foreach (var value in new[] { "", "bogus", "%00", new string('r', 5000), "file/../../x", "*" })
        {
            await ReadAsync($"{access}/check?resourceType={value}&resourceId={value}&role={value}");
            await ReadAsync($"{access}/list?resourceType={value}&continuationToken={value}&limit={value}");
            await MutationAsync(HttpMethod.Delete, $"{access}/delete?resourceType={value}&resourceId={value}", (byte[]?)null, "delete resource");
        }

        foreach (var id in HostileIds())
        {
            await ReadAsync($"/api/v1/admin/keys/{id}");
            await MutationAsync(HttpMethod.Delete, $"/api/v1/admin/keys/{id}", (byte[]?)null, "revoke key");
            await MutationAsync(HttpMethod.Post, $"/api/v1/admin/keys/{id}", """{"rate_limit":"10/s"}""", "update key");
        }
    }

    private async Task CredentialsAsync()
    {
        string?[] authorizations =
        [
            null, "Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "Bearer " + new string('k', 8000), "bearer " + QuiverFactory.AdminKey + "x",
            "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Bearer a.b.c", "Bearer " + QuiverFactory.AdminKey + ", Bearer other",
        ];
        string[] paths = ["/v1/files", "/v1/vector_stores", $"/v1/vector_stores/{_store}", "/api/v1/admin/keys", "/api/v1/authorization/llm/list?resourceType=vector_store"];
        foreach (var authorization in authorizations)
        {
            foreach (var path in paths)
            {
                using var get = new HttpRequestMessage(HttpMethod.Get, path);
                if (authorization is not null)
                {
                    get.Headers.TryAddWithoutValidation("Authorization", authorization);
                }

                await SendAsync(get, "GET with credentials " + Shorten(authorization), mutating: false);
            }

            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/vector_stores") { Content = Json("{}") };
            if (authorization is not null)
            {
                post.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            await SendAsync(post, "create with credentials " + Shorten(authorization), mutating: true);
        }

        // A valid key with an impossible end user, and the headers a proxy or a confused client might add.
        foreach (var onBehalfOf in new[] { "", "*", new string('u', 5000), "tab\tin it" })
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/vector_stores") { Content = Json("{}") };
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", QuiverFactory.AdminKey);
            post.Headers.TryAddWithoutValidation("X-On-Behalf-Of", onBehalfOf);
            await SendAsync(post, "on behalf of " + Shorten(onBehalfOf), mutating: true);
        }

        foreach (var (name, value) in new[] { ("Idempotency-Key", new string('i', 5000)), ("Idempotency-Key", ""), ("Content-Length", "abc"), ("OpenAI-Beta", "assistants=v999"), ("X-Forwarded-For", "' OR 1=1"), ("Accept", "application/xml") })
        {
            using var post = Authorized(new HttpRequestMessage(HttpMethod.Post, "/v1/vector_stores") { Content = Json("{\"name\":5}") });
            if (!post.Headers.TryAddWithoutValidation(name, value))
            {
                post.Content!.Headers.TryAddWithoutValidation(name, value);
            }

            await SendAsync(post, $"header {name}", mutating: true);
        }
    }

    // ---------------------------------------------------------------- raw HTTP

    /// <summary>
    /// Requests no HTTP client would send. Kestrel rejects broken HTTP itself, before the application, with a bare
    /// status (400, 414, 431, 505) and no body; that is the one place a 4xx has no envelope.
    /// </summary>
    private async Task RawHttpAsync()
    {
        var key = QuiverFactory.AdminKey;
        string[] requests =
        [
            "GARBAGE\r\n\r\n",
            "GET /v1/files HTTP/9.9\r\nHost: x\r\n\r\n",
            "GET /v1/files HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
            $"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nX-On-Behalf-Of: a\u0001b\r\n\r\n",
            $"GET /{new string('a', 20_000)} HTTP/1.1\r\nHost: x\r\n\r\n",
            $"GET /v1/files HTTP/1.1\r\nHost: x\r\nX-Big: {new string('h', 40_000)}\r\n\r\n",
            "GET /v1/files HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, 80).Select(i => $"X-H{i}: v\r\n")) + "\r\n",
            $"POST /v1/vector_stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n",
            $"POST /v1/vector_stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{{}}",
            $"POST /v1/vector_stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{{}}",
            $"POST /v1/vector_stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\na\r\n{{\"name\":5}}\r\n0\r\n\r\n",
            $"POST /v1/vector_stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{{}}",
            "GET /v1/files/..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v1/files/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET v1/files HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v1/files HTTP/1.1\r\n\r\n",
            "BREW /v1/files HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u00e9\u00e8\r\n\r\n",
            $"POST /v1/vector_stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nX-On-Behalf-Of: \u00fcser\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}",
            $"POST /v1/vector_stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nX-On-Behalf-Of: a\u007fb\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}",
            $"DELETE /v1/vector_stores/{_store} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}x\r\n\r\n",
        ];
        foreach (var request in requests)
        {
            await RawAsync(request);
        }

        // Our limits, not Kestrel's defaults, are in force: 80 headers pass Kestrel's default of 100 but not our 64;
        // a 2 MB body passes Kestrel's default 30 MB but not the 1 MiB of an ordinary JSON route.
        var authorized = $"Host: x\r\nAuthorization: Bearer {key}\r\nX-On-Behalf-Of: {User}\r\n";
        await RawAsync($"GET /v1/files HTTP/1.1\r\n{authorized}" + string.Concat(Enumerable.Range(0, 80).Select(i => $"X-H{i}: v\r\n")) + "\r\n", expected: 431);
        await RawAsync($"GET /v1/files HTTP/1.1\r\n{authorized}X-Big: {new string('h', 33 * 1024)}\r\n\r\n", expected: 431);
        await RawAsync($"GET /v1/files?after={new string('a', 9 * 1024)} HTTP/1.1\r\n{authorized}\r\n", expected: 414);
        await RawAsync($"POST /v1/vector_stores HTTP/1.1\r\n{authorized}Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{{}}", expected: 413);
    }

    private async Task RawAsync(string request, int? expected = null)
    {
        _sent++;
        var label = "raw " + Shorten(request.Split('\r')[0]);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_base.Host, _base.Port, Ct);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(request), Ct);
        }
        catch (IOException)
        {
            // The server may answer and close before a huge request is written; the answer is read below.
        }

        var response = new MemoryStream();
        var buffer = new byte[8192];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                response.Write(buffer, 0, read);
                if (LooksComplete(response))
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
        }

        var text = Encoding.Latin1.GetString(response.ToArray());
        if (!text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || !int.TryParse(text.AsSpan(9, 3), out var status))
        {
            _failures.Add($"{label}: no HTTP response ({Shorten(text)})");
            return;
        }

        if (status >= 500 && status != 505)
        {
            _failures.Add($"{label}: {status}");
        }
        else if (status < 400)
        {
            _failures.Add($"{label}: {status}, expected a rejection");
        }
        else if (expected is not null && status != expected)
        {
            _failures.Add($"{label}: {status}, expected {expected}");
        }

        var bodyStart = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var body = bodyStart < 0 ? "" : text[(bodyStart + 4)..];
        if (bodyStart >= 0 && text[..bodyStart].Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }
        if (status is >= 400 and < 500 && body.Length > 0 && !IsEnvelope(body))
        {
            _failures.Add($"{label}: {status} body is not the error envelope: {Shorten(body)}");
        }
    }

    private static string Dechunk(string chunked)
    {
        var body = new StringBuilder();
        var at = 0;
        while (at < chunked.Length)
        {
            var lineEnd = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (lineEnd < 0 || !int.TryParse(chunked.AsSpan(at, lineEnd - at), System.Globalization.NumberStyles.HexNumber, null, out var size) || size == 0)
            {
                break;
            }

            body.Append(chunked, lineEnd + 2, Math.Min(size, chunked.Length - lineEnd - 2));
            at = lineEnd + 2 + size + 2;
        }

        return body.ToString();
    }

    private static bool LooksComplete(MemoryStream response)
    {
        var text = Encoding.Latin1.GetString(response.GetBuffer(), 0, (int)response.Length);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        if (text[..end].Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            return text.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
        }

        var lengthHeader = text[..end].Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        return lengthHeader is not null && int.TryParse(lengthHeader["Content-Length:".Length..].Trim(), out var length) && text.Length - end - 4 >= length;
    }

    // ---------------------------------------------------------------- sending and judging

    /// <remarks>
    /// Not "%2e%2e": a path segment of encoded dots is, by RFC 3986, the segment "..", and both .NET's Uri and Kestrel
    /// remove it with the segment before it (DELETE /v1/vector_stores/{id}/files/%2e%2e is DELETE /v1/vector_stores/{id},
    /// exactly as with nginx or any other server): a valid request, not a malformed one. Reads use it below.
    /// </remarks>
    private static IEnumerable<string> HostileIds() =>
    [
        "vs_doesnotexist", "file-doesnotexist", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f", "%00", "a%0Ab", "%ff%fe", new string('x', 3000),
        "%E2%80%AE", "%F0%9F%92%A5", "1%20OR%201%3D1", "%27%3BDROP%20TABLE%20files%3B--", "vs_" + new string('a', 300), "%20",
    ];

    private Task MutationAsync(HttpMethod method, string path, string body, string label, string contentType = "application/json") =>
        MutationAsync(method, path, Encoding.UTF8.GetBytes(body), label, contentType);

    private async Task MutationAsync(HttpMethod method, string path, byte[]? body, string label, string contentType = "application/json", int? expected = null)
    {
        using var request = Authorized(new HttpRequestMessage(method, path));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        await SendAsync(request, $"{method} {Shorten(path)} [{label}]", mutating: true, expected);
    }

    private async Task MultipartAsync(string path, string label, MultipartFormDataContent form)
    {
        using var request = Authorized(new HttpRequestMessage(HttpMethod.Post, path) { Content = form });
        await SendAsync(request, $"POST {path} [{label}]", mutating: true);
    }

    private async Task ReadAsync(string path)
    {
        using var request = Authorized(new HttpRequestMessage(HttpMethod.Get, path));
        await SendAsync(request, $"GET {Shorten(path)}", mutating: false);
    }

    private async Task SendAsync(HttpRequestMessage request, string label, bool mutating, int? expected = null)
    {
        _sent++;
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, Ct);
        }
        catch (HttpRequestException e)
        {
            _failures.Add($"{label}: no response ({e.Message})");
            return;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync(Ct);
            if (status >= 500)
            {
                _failures.Add($"{label}: {status} {Shorten(body)}");
            }
            else if (expected is not null && status != expected)
            {
                _failures.Add($"{label}: {status}, expected {expected}: {Shorten(body)}");
            }
            else if (mutating && status < 400)
            {
                _failures.Add($"{label}: {status}, a malformed request succeeded: {Shorten(body)}");
            }
            else if (status is 400 or 414 or 431 && body.Length == 0 && RejectedByKestrel(request))
            {
                // Broken HTTP that Kestrel answers itself, before the application (see RawHttpAsync).
            }
            else if (status >= 400 && (response.Content.Headers.ContentType?.MediaType != "application/json" || !IsEnvelope(body)))
            {
                _failures.Add($"{label}: {status} without the error envelope: {Shorten(body)}");
            }
        }
    }

    /// <summary>A NUL in the decoded path (400) or a request line over the 8 KiB limit (414): refused by Kestrel.</summary>
    private static bool RejectedByKestrel(HttpRequestMessage request) =>
        request.RequestUri!.OriginalString.Contains("%00", StringComparison.Ordinal) || request.RequestUri.OriginalString.Length > 8 * 1024;

    private static bool IsEnvelope(string body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject root && root.Count == 1 && root["error"] is JsonObject error
                && error["message"] is JsonValue message && message.GetValueKind() == System.Text.Json.JsonValueKind.String
                && error["type"] is JsonValue type && type.GetValueKind() == System.Text.Json.JsonValueKind.String
                && error.ContainsKey("param") && error.ContainsKey("code");
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private HttpRequestMessage Authorized(HttpRequestMessage request)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", QuiverFactory.AdminKey);
        request.Headers.TryAddWithoutValidation("X-On-Behalf-Of", User);
        return request;
    }

    private static ByteArrayContent Json(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static MultipartFormDataContent Form(string filename, string text, string? purpose, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        // Written by hand: HttpClient would quote or encode the name, and these names are meant to arrive as they are.
        file.Headers.TryAddWithoutValidation("Content-Disposition", filename.All(char.IsAscii)
            ? $"form-data; name=\"file\"; filename=\"{filename.Replace("\"", "", StringComparison.Ordinal)}\""
            : $"form-data; name=\"file\"; filename*=UTF-8''{Uri.EscapeDataString(filename)}");
        form.Add(file);
        if (purpose is not null)
        {
            form.Add(new StringContent(purpose), "purpose");
        }

        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return form;
    }

    private static string Shorten(string? text) => text is null ? "(none)" : text.Length <= 80 ? text : text[..77] + "...";

    // ---------------------------------------------------------------- storage before and after

    private async Task<JsonObject> PostAsync(string path, string json)
    {
        using var request = Authorized(new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(json) });
        using var response = await _client.SendAsync(request, Ct);
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    private async Task<JsonObject> GetAsync(string path)
    {
        using var request = Authorized(new HttpRequestMessage(HttpMethod.Get, path));
        using var response = await _client.SendAsync(request, Ct);
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    private async Task<JsonObject> UploadAsync(string filename, string text)
    {
        using var request = Authorized(new HttpRequestMessage(HttpMethod.Post, "/v1/files") { Content = FileForm(filename, Encoding.UTF8.GetBytes(text)) });
        using var response = await _client.SendAsync(request, Ct);
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    /// <summary>Every table's row count, the stored and staged file bytes, and what the API shows the user and the admin.</summary>
    private async Task<string> SnapshotAsync()
    {
        var lines = new List<string>();
        foreach (var (table, count) in await factory.TableRowCountsAsync())
        {
            lines.Add($"table {table}: {count}");
        }

        lines.Add($"blobs: {await factory.CountBlobsAsync()}, staged: {await factory.CountStagedBlobsAsync()}");
        foreach (var path in new[] { "/v1/files", "/v1/vector_stores?limit=100", $"/v1/vector_stores/{_store}", $"/v1/vector_stores/{_store}/files?limit=100", $"/v1/vector_stores/{_store}/file_batches/{_batch}" })
        {
            var json = await GetAsync(path);
            lines.Add($"{path}: {WithoutVolatile(json).ToJsonString()}");
        }

        using var keys = new HttpRequestMessage(HttpMethod.Get, "/api/v1/admin/keys");
        keys.Headers.Authorization = new AuthenticationHeaderValue("Bearer", QuiverFactory.AdminKey);
        using var keysResponse = await _client.SendAsync(keys, Ct);
        lines.Add($"keys: {WithoutVolatile(await keysResponse.ReadJsonAsync(HttpStatusCode.OK)).ToJsonString()}");
        return string.Join("\n", lines);
    }

    /// <summary>The JSON without the fields reads may move (a store's last activity, a key's last use).</summary>
    private static JsonNode WithoutVolatile(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in new[] { "last_active_at", "last_used_at" })
                {
                    obj.Remove(name);
                }

                foreach (var (_, child) in obj.ToList())
                {
                    if (child is not null)
                    {
                        WithoutVolatile(child);
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null)
                    {
                        WithoutVolatile(child);
                    }
                }

                break;
        }

        return node;
    }
}

/// <summary>Malformed requests on the embedded backend.</summary>
public sealed class HostileRequestsTests() : HostileRequestsContract(new QuiverFactory());

/// <summary>Malformed requests on PostgreSQL.</summary>
public sealed class HostileRequestsPostgresTests : HostileRequestsContract
{
    public HostileRequestsPostgresTests()
        : base(new PostgresQuiverFactory()) => PostgresTestServer.RequireOrSkip();
}
