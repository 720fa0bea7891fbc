using System.Net;
using Quiver.IntegrationTests.Infrastructure;
using System.Net.Http.Headers;
using System.Text;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>Grants and revokes across two real server processes on one PostgreSQL database.</summary>
public sealed partial class MultiProcessPostgresTests
{
    [Fact]
    public async Task A_revoke_in_one_process_holds_on_the_next_request_in_the_other()
    {
        var (a, b) = await StartTwoAsync(leaseSeconds: 30);
        var alice = OnBehalfOf(a, "alice");
        var bobOnB = OnBehalfOf(b, "bob");
        var storeId = (string)(await alice.PostJsonAsync("/v1/vector_stores", """{"name":"shared"}"""))["id"]!;
        using (var hidden = await bobOnB.GetAsync($"/v1/vector_stores/{storeId}", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }

        await AuthorizeAsync(alice, "grant", storeId, "bob", "writer");
        await AuthorizeAsync(alice, "grant", storeId, "bob", "reader");
        Assert.Equal("by bob", (string?)(await bobOnB.PostJsonAsync($"/v1/vector_stores/{storeId}", """{"name":"by bob"}"""))["name"]);

        // Revoked in A, refused in B on the very next request: writer first (403), then reader (404).
        await AuthorizeAsync(alice, "revoke", storeId, "bob", "writer");
        using (var denied = await bobOnB.PostAsync($"/v1/vector_stores/{storeId}", Json("""{"name":"again"}"""), Ct))
        {
            await denied.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", null, "insufficient_role");
        }

        Assert.Equal(storeId, (string?)(await bobOnB.GetJsonAsync($"/v1/vector_stores/{storeId}"))["id"]);
        await AuthorizeAsync(alice, "revoke", storeId, "bob", "reader");
        using (var gone = await bobOnB.GetAsync($"/v1/vector_stores/{storeId}", Ct))
        {
            await gone.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
        }

        Assert.DoesNotContain(storeId, (await bobOnB.GetJsonAsync("/v1/vector_stores")).Ids());
    }

    [Fact]
    public async Task A_store_and_a_file_deleted_in_one_process_are_not_found_by_their_creator_in_the_other()
    {
        var (a, b) = await StartTwoAsync(leaseSeconds: 30);
        var aliceOnA = OnBehalfOf(a, "alice");
        var aliceOnB = OnBehalfOf(b, "alice");
        var storeId = (string)(await aliceOnA.PostJsonAsync("/v1/vector_stores", """{"name":"soon gone"}"""))["id"]!;
        var fileId = (string)(await aliceOnA.UploadAsync("/v1", "gone.txt", "Soon gone."))["id"]!;
        var keptFile = (string)(await aliceOnA.UploadAsync("/v1", "kept.txt", "Kept."))["id"]!;

        // A has checked alice against both (and remembers she created them); B deletes them.
        Assert.Equal(storeId, (string?)(await aliceOnA.GetJsonAsync($"/v1/vector_stores/{storeId}"))["id"]);
        Assert.Equal(fileId, (string?)(await aliceOnA.GetJsonAsync($"/v1/files/{fileId}"))["id"]);
        (await aliceOnB.DeleteAsync($"/v1/vector_stores/{storeId}", Ct)).EnsureSuccessStatusCode();
        (await aliceOnB.DeleteAsync($"/v1/files/{fileId}", Ct)).EnsureSuccessStatusCode();

        // Every route of A answers exactly as for a store or file that never existed.
        async Task AssertStoreGoneAsync(HttpResponseMessage response)
        {
            using (response)
            {
                await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
            }
        }

        await AssertStoreGoneAsync(await aliceOnA.GetAsync($"/v1/vector_stores/{storeId}", Ct));
        await AssertStoreGoneAsync(await aliceOnA.PostAsync($"/v1/vector_stores/{storeId}", Json("""{"name":"x"}"""), Ct));
        await AssertStoreGoneAsync(await aliceOnA.PostAsync($"/v1/vector_stores/{storeId}/search", Json("""{"query":"gone"}"""), Ct));
        await AssertStoreGoneAsync(await aliceOnA.PostAsync($"/v1/vector_stores/{storeId}/files", Json($$"""{"file_id":"{{keptFile}}"}"""), Ct));
        await AssertStoreGoneAsync(await aliceOnA.GetAsync($"/v1/vector_stores/{storeId}/files", Ct));
        await AssertStoreGoneAsync(await aliceOnA.DeleteAsync($"/v1/vector_stores/{storeId}", Ct));
        foreach (var request in new[] { aliceOnA.GetAsync($"/v1/files/{fileId}", Ct), aliceOnA.GetAsync($"/v1/files/{fileId}/content", Ct), aliceOnA.DeleteAsync($"/v1/files/{fileId}", Ct) })
        {
            using var response = await request;
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "file_id");
        }
    }

    private static HttpClient OnBehalfOf(ServerProcess server, string user)
    {
        var client = new HttpClient { BaseAddress = server.Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        client.DefaultRequestHeaders.Add("X-On-Behalf-Of", user);
        return client;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task AuthorizeAsync(HttpClient owner, string verb, string storeId, string user, string role)
    {
        using var response = await owner.PostAsync(
            $"/api/v1/authorization/llm/{verb}",
            Json($$"""{"resourceType":"vector_store","resourceId":"{{storeId}}","userId":"{{user}}","role":"{{role}}"}"""),
            Ct);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }
}
