using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Quiver.Core.Keys;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>The files API on the embedded backend.</summary>
public sealed class FilesEndpointsTests(QuiverFactory factory) : FilesEndpointsContract<QuiverFactory>(factory);

/// <summary>The same contract on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class FilesEndpointsPostgresTests : FilesEndpointsContract<PostgresQuiverFactory>
{
    public FilesEndpointsPostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();
}

/// <summary>The files API contract, run against each storage backend.</summary>
public abstract class FilesEndpointsContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    private HttpClient NewUser() => factory.CreateApiClient(onBehalfOf: "user-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task Upload_retrieve_list_download_and_delete_round_trip(string prefix)
    {
        var client = NewUser();
        var uploaded = await client.UploadAsync(prefix, "notes.md", "# Title\nhello quiver");
        var id = (string)uploaded["id"]!;
        Assert.StartsWith("file-", id);
        Assert.Equal(29, id.Length);
        Assert.Equal("file", (string?)uploaded["object"]);
        Assert.Equal(20, (long)uploaded["bytes"]!);
        Assert.Equal("notes.md", (string?)uploaded["filename"]);
        Assert.Equal("assistants", (string?)uploaded["purpose"]);
        Assert.InRange((long)uploaded["created_at"]!, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);

        var retrieved = await client.GetJsonAsync($"{prefix}/files/{id}");
        Assert.Equal(uploaded.ToJsonString(), retrieved.ToJsonString());

        var list = await client.GetJsonAsync($"{prefix}/files");
        Assert.Equal("list", (string?)list["object"]);
        Assert.Equal([id], list.Ids());
        Assert.False((bool)list["has_more"]!);

        using (var content = await client.GetAsync($"{prefix}/files/{id}/content", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, content.StatusCode);
            Assert.Equal("text/markdown", content.Content.Headers.ContentType?.MediaType);
            Assert.Equal("notes.md", content.Content.Headers.ContentDisposition?.FileNameStar);
            Assert.Equal("# Title\nhello quiver", await content.Content.ReadAsStringAsync(Ct));
        }

        var deleted = await client.DeleteAsync($"{prefix}/files/{id}", Ct);
        var body = await deleted.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal($$"""{"id":"{{id}}","object":"file","deleted":true}""", body.ToJsonString());

        using var gone = await client.GetAsync($"{prefix}/files/{id}", Ct);
        await gone.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "file_id");
        Assert.Empty((await client.GetJsonAsync($"{prefix}/files")).Ids());
        Assert.False(await factory.BlobExistsAsync(id));
    }

    [Fact]
    public async Task Content_type_comes_from_magic_bytes_and_disposition_is_safe_for_odd_names()
    {
        var client = NewUser();
        var pdf = Encoding.ASCII.GetBytes("%PDF-1.4\n%fake\n");
        using var response = await client.PostAsync("/v1/files", RawNameFileForm("report \"final\"; ünïcode.txt", pdf), Ct);
        var id = (string)(await response.ReadJsonAsync(HttpStatusCode.OK))["id"]!;

        using var content = await client.GetAsync($"/v1/files/{id}/content", Ct);
        Assert.Equal("application/pdf", content.Content.Headers.ContentType?.MediaType);
        var disposition = content.Content.Headers.ContentDisposition!;
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.Equal("report \"final\"; ünïcode.txt", disposition.FileNameStar);
        Assert.Equal("nosniff", content.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(pdf, await content.Content.ReadAsByteArrayAsync(Ct));
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a/b.txt")]
    [InlineData("a\\b.txt")]
    [InlineData("bad\u0001name.txt")]
    [InlineData("line\nbreak.txt")]
    [InlineData("..")]
    public async Task Unsafe_filenames_are_rejected_and_nothing_is_stored(string filename)
    {
        var client = NewUser();
        using var response = await client.PostAsync("/v1/files", RawNameFileForm(filename, "x"u8.ToArray()), Ct);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "file", "invalid_filename");
        Assert.Empty((await client.GetJsonAsync("/v1/files")).Ids());
        Assert.Equal(0, await factory.CountStagedBlobsAsync());
    }

    [Fact]
    public async Task A_1000_character_filename_is_rejected()
    {
        using var response = await NewUser().PostAsync("/v1/files", FileForm(new string('a', 996) + ".txt", "x"u8.ToArray()), Ct);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "file", "invalid_filename");
    }

    [Fact]
    public async Task Missing_file_missing_purpose_unknown_purpose_and_empty_file_are_400s()
    {
        var client = NewUser();
        using (var form = new MultipartFormDataContent { { new StringContent("assistants"), "purpose" } })
        using (var response = await client.PostAsync("/v1/files", form, Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "file", "missing_required_parameter");
        }

        using (var response = await client.PostAsync("/v1/files", FileForm("a.txt", "x"u8.ToArray(), purpose: null), Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "purpose", "missing_required_parameter");
        }

        using (var response = await client.PostAsync("/v1/files", FileForm("a.txt", "x"u8.ToArray(), purpose: "training"), Ct))
        {
            var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "purpose", "invalid_value");
            Assert.Contains("assistants", (string?)error["error"]!["message"]);
        }

        using (var response = await client.PostAsync("/v1/files", FileForm("a.txt", [], purpose: "assistants"), Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "file", "empty_file");
        }

        using (var json = new StringContent("{}", Encoding.UTF8, "application/json"))
        using (var response = await client.PostAsync("/v1/files", json, Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.UnsupportedMediaType, "invalid_request_error", null, "unsupported_media_type");
        }

        using (var broken = new StringContent("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc", Encoding.UTF8))
        {
            broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
            using var response = await client.PostAsync("/v1/files", broken, Ct);
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "file", "invalid_multipart");
        }

        Assert.Empty((await client.GetJsonAsync("/v1/files")).Ids());
        Assert.Equal(0, await factory.CountStagedBlobsAsync());
    }

    [Fact]
    public async Task Purpose_may_come_after_the_file_part()
    {
        var client = NewUser();
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent("abc"u8.ToArray()), "file", "late.txt");
        form.Add(new StringContent("user_data"), "purpose");
        using var response = await client.PostAsync("/api/v1/llm/files", form, Ct);
        Assert.Equal("user_data", (string?)(await response.ReadJsonAsync(HttpStatusCode.OK))["purpose"]);
    }

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task Malformed_and_unknown_ids(string prefix)
    {
        var client = NewUser();
        foreach (var url in new[] { $"{prefix}/files/vs_abc", $"{prefix}/files/file-ab$c", $"{prefix}/files/file-", $"{prefix}/files/vs_abc/content" })
        {
            using var response = await client.GetAsync(url, Ct);
            var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "file_id", "invalid_id");
            Assert.Contains("file-", (string?)error["error"]!["message"]);
        }

        using (var response = await client.DeleteAsync($"{prefix}/files/vs_abc", Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "file_id", "invalid_id");
        }

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, $"{prefix}/files/file-000000000000000000000000"), Ct);
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "file_id");
        }
    }

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task Another_principals_file_is_invisible(string prefix)
    {
        var alice = factory.CreateApiClient(onBehalfOf: "alice-" + Guid.NewGuid().ToString("N"));
        var id = (string)(await alice.UploadAsync(prefix, "secret.txt", "alice's secret"))["id"]!;

        var (_, otherSecret) = await factory.Services.GetRequiredService<IApiKeyStore>()
            .CreateAsync("other", "other-project-" + Guid.NewGuid().ToString("N"), isAdmin: false, Ct);
        var intruders = new[]
        {
            factory.CreateApiClient(onBehalfOf: "bob"),
            factory.CreateApiClient(),
            factory.CreateApiClient(otherSecret),
        };

        foreach (var intruder in intruders)
        {
            foreach (var url in new[] { $"{prefix}/files/{id}", $"{prefix}/files/{id}/content" })
            {
                using var response = await intruder.GetAsync(url, Ct);
                await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "file_id");
            }

            using (var response = await intruder.DeleteAsync($"{prefix}/files/{id}", Ct))
            {
                await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "file_id");
            }

            Assert.DoesNotContain(id, (await intruder.GetJsonAsync($"{prefix}/files")).Ids());
            using (var response = await intruder.GetAsync($"{prefix}/files?after={id}", Ct))
            {
                await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "after", "invalid_cursor");
            }
        }

        Assert.Equal(id, (string?)(await alice.GetJsonAsync($"{prefix}/files/{id}"))["id"]);
    }

    [Fact]
    public async Task Pagination_walks_every_file_once_in_both_orders()
    {
        var client = NewUser();
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add((string)(await client.UploadAsync("/v1", $"f{i}.txt", $"file {i}"))["id"]!);
        }

        var desc = await WalkAsync(client, "desc");
        var asc = await WalkAsync(client, "asc");
        Assert.Equal(7, desc.Count);
        Assert.Equal(ids.Order(StringComparer.Ordinal), desc.Order(StringComparer.Ordinal));
        Assert.Equal(desc.AsEnumerable().Reverse(), asc);

        // `before` pages back towards the start of the list.
        var page = await client.GetJsonAsync($"/v1/files?limit=2&order=asc&before={asc[4]}");
        Assert.Equal([asc[2], asc[3]], page.Ids());
        Assert.True((bool)page["has_more"]!);
        Assert.Equal(asc[2], (string?)page["first_id"]);
        Assert.Equal(asc[3], (string?)page["last_id"]);

        var purposeFiltered = await client.GetJsonAsync("/v1/files?purpose=batch");
        Assert.Empty(purposeFiltered.Ids());
        Assert.Equal(7, (await client.GetJsonAsync("/v1/files?purpose=assistants")).Ids().Length);
    }

    private static async Task<List<string>> WalkAsync(HttpClient client, string order)
    {
        var seen = new List<string>();
        string? after = null;
        while (true)
        {
            var page = await client.GetJsonAsync($"/v1/files?limit=3&order={order}" + (after is null ? "" : $"&after={after}"));
            var ids = page.Ids();
            Assert.True(ids.Length <= 3);
            seen.AddRange(ids);
            if (!(bool)page["has_more"]!)
            {
                return seen;
            }

            after = (string?)page["last_id"];
        }
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=10001", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("order=sideways", "order")]
    [InlineData("after=file-000000000000000000000000", "after")]
    [InlineData("purpose=nope", "purpose")]
    public async Task Bad_list_parameters_are_400s_naming_the_parameter(string query, string param)
    {
        using var response = await NewUser().GetAsync($"/v1/files?{query}", Ct);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", param);
    }
}
