using System.Net;
using Quiver.IntegrationTests.Auth;
using Quiver.IntegrationTests.Batches;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Access;

/// <summary>The authorization API on the embedded backend.</summary>
public sealed class AuthorizationApiTests(QuiverFactory factory) : AuthorizationApiContract<QuiverFactory>(factory);

/// <summary>The same contract on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class AuthorizationApiPostgresTests : AuthorizationApiContract<PostgresQuiverFactory>
{
    public AuthorizationApiPostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();
}

/// <summary>
/// <c>/api/v1/authorization/llm</c> (MKA1 §1.3): grants and revokes by owners only, public grants,
/// lists of shared objects, <c>check</c>, <c>list</c> with continuation tokens, <c>create</c> and
/// <c>delete</c>, and precise 400s for bad input that change nothing.
/// </summary>
public abstract class AuthorizationApiContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    private const string Authz = AccessTestKit.Authz;

    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task A_revoke_holds_on_the_very_next_request(string prefix)
    {
        var (owner, storeId) = await NewStoreAsync(prefix);
        var userId = AccessTestKit.NewUserId();
        var user = factory.As(userId);

        await owner.GrantAsync("vector_store", storeId, userId, "writer");
        await owner.GrantAsync("vector_store", storeId, userId, "reader");
        Assert.Equal(storeId, (string?)(await user.PostJsonAsync($"{prefix}/vector_stores/{storeId}", """{"name":"by writer"}"""))["id"]);

        // Dropping writer leaves reader: modify is now 403, retrieve still 200.
        await owner.RevokeAsync("vector_store", storeId, userId, "writer");
        using (var denied = await user.SendAsync(HttpMethod.Post, $"{prefix}/vector_stores/{storeId}", """{"name":"again"}"""))
        {
            await denied.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", null, "insufficient_role");
        }

        Assert.Equal("by writer", (string?)(await user.GetJsonAsync($"{prefix}/vector_stores/{storeId}"))["name"]);

        // Dropping reader too: the store is gone for them, in lists as well.
        await owner.RevokeAsync("vector_store", storeId, userId, "reader");
        using (var gone = await user.GetAsync($"{prefix}/vector_stores/{storeId}", Ct))
        {
            await gone.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
        }

        Assert.DoesNotContain(storeId, (await user.GetJsonAsync($"{prefix}/vector_stores?limit=100")).Ids());
    }

    [Fact]
    public async Task Lists_show_owned_directly_granted_and_public_objects_and_nothing_else()
    {
        var userId = AccessTestKit.NewUserId();
        var user = factory.As(userId);
        var mine = (string)(await user.CreateStoreAsync("/v1"))["id"]!;
        var (alice, sharedWithMe) = await NewStoreAsync("/v1");
        var (_, notShared) = await NewStoreAsync("/v1");
        var (bob, publicStore) = await NewStoreAsync("/v1");
        await alice.GrantAsync("vector_store", sharedWithMe, userId, "reader");
        await bob.GrantAsync("vector_store", publicStore, "*", "reader");
        var bobFile = (string)(await bob.UploadAsync("/v1", "public.txt", "public text"))["id"]!;
        await bob.GrantAsync("file", bobFile, "*", "reader");

        var listed = (await user.GetJsonAsync("/v1/vector_stores?limit=100")).Ids();
        Assert.Contains(mine, listed);
        Assert.Contains(sharedWithMe, listed);
        Assert.Contains(publicStore, listed);
        Assert.DoesNotContain(notShared, listed);
        Assert.Contains(bobFile, (await user.GetJsonAsync("/v1/files")).Ids());

        // Public means every principal of the project, the key acting for itself included.
        var keyItself = factory.CreateApiClient();
        Assert.Contains(publicStore, (await keyItself.GetJsonAsync("/v1/vector_stores?limit=100")).Ids());
        Assert.Equal("public.txt", (string?)(await keyItself.GetJsonAsync($"/v1/files/{bobFile}"))["filename"]);

        // Cursors work across the union: walk one store per page; ascending is the exact reverse; `before` pages back.
        var walked = (await user.ListAllAsync("/v1/vector_stores")).Select(s => (string)s["id"]!).ToList();
        Assert.Equal(listed.Order(StringComparer.Ordinal), walked.Order(StringComparer.Ordinal));
        Assert.Equal(listed.AsEnumerable().Reverse(), (await user.GetJsonAsync("/v1/vector_stores?limit=100&order=asc")).Ids());
        Assert.Equal(listed.Skip(listed.Length - 3).Take(2), (await user.GetJsonAsync($"/v1/vector_stores?limit=2&before={listed[^1]}")).Ids());
        Assert.Equal(listed.Skip(1).Take(2), (await user.GetJsonAsync($"/v1/vector_stores?limit=2&after={listed[0]}")).Ids());

        // The authorization list holds direct relationships only: not the public store.
        var (direct, _) = await user.ListAllResourcesAsync("resourceType=vector_store");
        Assert.Equal(new[] { mine, sharedWithMe }.Order(StringComparer.Ordinal), direct);
    }

    [Fact]
    public async Task Public_writer_can_modify_but_not_delete_and_public_owner_is_rejected()
    {
        var (owner, storeId) = await NewStoreAsync("/v1");
        await owner.GrantAsync("vector_store", storeId, "*", "writer");
        var anyone = factory.As(AccessTestKit.NewUserId());
        Assert.Equal("public edit", (string?)(await anyone.PostJsonAsync($"/v1/vector_stores/{storeId}", """{"name":"public edit"}"""))["name"]);
        using (var delete = await anyone.DeleteAsync($"/v1/vector_stores/{storeId}", Ct))
        {
            await delete.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", null, "insufficient_role");
        }

        using var publicOwner = await owner.SendAsync(HttpMethod.Post, $"{Authz}/grant", AccessTestKit.Relationship("vector_store", storeId, "*", "owner"));
        var error = await publicOwner.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "role", "invalid_value");
        Assert.Equal("Public access ('userId': '*') can be granted only as 'reader' or 'writer', never 'owner'.", (string?)error["error"]!["message"]);
        Assert.False(await anyone.CheckAsync("vector_store", storeId, "owner"));
    }

    [Fact]
    public async Task Only_owners_grant_and_revoke_and_a_granted_owner_may()
    {
        var (owner, storeId) = await NewStoreAsync("/v1");
        var writerId = AccessTestKit.NewUserId("writer");
        var writer = factory.As(writerId);
        await owner.GrantAsync("vector_store", storeId, writerId, "writer");
        var third = AccessTestKit.NewUserId("third");

        using (var denied = await writer.SendAsync(HttpMethod.Post, $"{Authz}/grant", AccessTestKit.Relationship("vector_store", storeId, third, "reader")))
        {
            await denied.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", null, "insufficient_role");
        }

        using (var denied = await writer.SendAsync(HttpMethod.Post, $"{Authz}/revoke", AccessTestKit.Relationship("vector_store", storeId, writerId, "writer")))
        {
            await denied.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", null, "insufficient_role");
        }

        var stranger = factory.As(AccessTestKit.NewUserId("stranger"));
        using (var hidden = await stranger.SendAsync(HttpMethod.Post, $"{Authz}/grant", AccessTestKit.Relationship("vector_store", storeId, third, "reader")))
        {
            var error = await hidden.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "resourceId");
            Assert.Equal($"No vector store found with id '{storeId}'.", (string?)error["error"]!["message"]);
        }

        Assert.False(await factory.As(third).CheckAsync("vector_store", storeId, "reader"));

        // Owner is grantable to a user; that owner can then share and delete.
        await owner.GrantAsync("vector_store", storeId, writerId, "owner");
        await writer.GrantAsync("vector_store", storeId, third, "reader");
        Assert.True(await factory.As(third).CheckAsync("vector_store", storeId, "reader"));
        using var deleted = await writer.DeleteAsync($"/v1/vector_stores/{storeId}", Ct);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.False(await factory.As(third).CheckAsync("vector_store", storeId, "reader"));
    }

    [Fact]
    public async Task Check_answers_for_each_role_and_false_for_what_the_caller_cannot_see()
    {
        var (owner, storeId) = await NewStoreAsync("/v1");
        var readerId = AccessTestKit.NewUserId("reader");
        await owner.GrantAsync("vector_store", storeId, readerId, "reader");
        var reader = factory.As(readerId);

        Assert.True(await owner.CheckAsync("vector_store", storeId, "owner"));
        Assert.True(await reader.CheckAsync("vector_store", storeId, "reader"));
        Assert.False(await reader.CheckAsync("vector_store", storeId, "writer"));
        Assert.False(await reader.CheckAsync("vector_store", storeId, "owner"));
        Assert.False(await factory.As(AccessTestKit.NewUserId()).CheckAsync("vector_store", storeId, "reader"));
        Assert.False(await owner.CheckAsync("vector_store", "vs_doesnotexist", "reader"));
        Assert.False(await owner.CheckAsync("file", storeId, "reader"));
    }

    [Fact]
    public async Task List_pages_with_continuation_tokens_filters_by_least_role_and_follows_revokes()
    {
        var userId = AccessTestKit.NewUserId();
        var user = factory.As(userId);
        var owned = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            owned.Add((string)(await user.CreateStoreAsync("/v1"))["id"]!);
        }

        var (alice, readOnly) = await NewStoreAsync("/v1");
        var writable = (string)(await alice.CreateStoreAsync("/v1"))["id"]!;
        await alice.GrantAsync("vector_store", readOnly, userId, "reader");
        await alice.GrantAsync("vector_store", writable, userId, "writer");

        var all = owned.Append(readOnly).Append(writable).Order(StringComparer.Ordinal).ToList();
        var (paged, pages) = await user.ListAllResourcesAsync("resourceType=vector_store&role=reader&limit=2");
        Assert.Equal(all, paged);
        Assert.Equal(3, pages);
        Assert.Equal(all, (await user.ListAllResourcesAsync("resourceType=vector_store")).Ids);
        Assert.Equal(owned.Append(writable).Order(StringComparer.Ordinal), (await user.ListAllResourcesAsync("resourceType=vector_store&role=writer&limit=2")).Ids);
        Assert.Equal(owned.Order(StringComparer.Ordinal), (await user.ListAllResourcesAsync("resourceType=vector_store&role=owner")).Ids);
        Assert.Empty((await user.ListAllResourcesAsync("resourceType=file")).Ids);

        var last = await user.GetJsonAsync($"{Authz}/list?resourceType=vector_store&limit=5");
        Assert.Null((string?)last["continuationToken"]);
        Assert.Equal(all, last["resources"]!.AsArray().Select(n => (string)n!));

        await alice.RevokeAsync("vector_store", readOnly, userId, "reader");
        Assert.DoesNotContain(readOnly, (await user.ListAllResourcesAsync("resourceType=vector_store")).Ids);
    }

    [Fact]
    public async Task Delete_drops_every_grant_and_create_with_overwrite_does_too()
    {
        var (owner, storeId) = await NewStoreAsync("/v1");
        var readerId = AccessTestKit.NewUserId("reader");
        var reader = factory.As(readerId);
        await owner.GrantAsync("vector_store", storeId, readerId, "reader");
        await owner.GrantAsync("vector_store", storeId, "*", "reader");

        // A reader may not drop relationships; create without overwrite changes nothing.
        using (var denied = await reader.SendAsync(HttpMethod.Delete, $"{Authz}/delete", $$"""{"resourceType":"vector_store","resourceId":"{{storeId}}"}"""))
        {
            await denied.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", null, "insufficient_role");
        }

        using (var create = await owner.SendAsync(HttpMethod.Post, $"{Authz}/create", $$"""{"resourceType":"vector_store","resourceId":"{{storeId}}","overwrite":false}"""))
        {
            await AccessTestKit.AssertNoContentAsync(create);
        }

        Assert.True(await reader.CheckAsync("vector_store", storeId, "reader"));

        using (var delete = await owner.SendAsync(HttpMethod.Delete, $"{Authz}/delete", $$"""{"resourceType":"vector_store","resourceId":"{{storeId}}"}"""))
        {
            await AccessTestKit.AssertNoContentAsync(delete);
        }

        Assert.False(await reader.CheckAsync("vector_store", storeId, "reader"));
        Assert.False(await factory.As(AccessTestKit.NewUserId()).CheckAsync("vector_store", storeId, "reader"));
        Assert.True(await owner.CheckAsync("vector_store", storeId, "owner"));

        await owner.GrantAsync("vector_store", storeId, readerId, "writer");
        using (var create = await owner.SendAsync(HttpMethod.Post, $"{Authz}/create", $$"""{"resourceType":"vector_store","resourceId":"{{storeId}}","overwrite":true}"""))
        {
            await AccessTestKit.AssertNoContentAsync(create);
        }

        using var gone = await reader.GetAsync($"/v1/vector_stores/{storeId}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Grants_stay_inside_the_project()
    {
        var (owner, storeId) = await NewStoreAsync("/v1");
        var userId = AccessTestKit.NewUserId();
        await owner.GrantAsync("vector_store", storeId, userId, "reader");
        await owner.GrantAsync("vector_store", storeId, "*", "writer");

        var (_, otherKey) = await factory.CreateKeyAsync($$"""{"name":"other","project":"other-{{Guid.NewGuid():N}}"}""");
        var sameUserElsewhere = factory.Bearer(otherKey, userId);
        using var hidden = await sameUserElsewhere.GetAsync($"/v1/vector_stores/{storeId}", Ct);
        await hidden.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "vector_store_id");
        Assert.DoesNotContain(storeId, (await sameUserElsewhere.GetJsonAsync("/v1/vector_stores?limit=100")).Ids());
        Assert.False(await sameUserElsewhere.CheckAsync("vector_store", storeId, "reader"));
        using var grant = await sameUserElsewhere.SendAsync(HttpMethod.Post, $"{Authz}/grant", AccessTestKit.Relationship("vector_store", storeId, "x", "reader"));
        await grant.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "resourceId");
    }

    public static TheoryData<string, string, string, string?, string> BadRequests => new()
    {
        // method, path, body or query, expected param, expected code
        { "POST", "grant", """{"resourceType":"conversation","resourceId":"conv_1","userId":"u","role":"reader"}""", "resourceType", "unsupported_resource_type" },
        { "POST", "grant", """{"resourceType":"skill","resourceId":"s1","userId":"u","role":"reader"}""", "resourceType", "unsupported_resource_type" },
        { "POST", "grant", """{"resourceType":"bucket","resourceId":"b1","userId":"u","role":"reader"}""", "resourceType", "invalid_value" },
        { "POST", "grant", """{"resourceType":"vector_store","resourceId":"{store}","userId":"u","role":"admin"}""", "role", "invalid_value" },
        { "POST", "grant", """{"resourceType":"vector_store","resourceId":"{store}","userId":"bad user!","role":"reader"}""", "userId", "invalid_value" },
        { "POST", "grant", "{\"resourceType\":\"vector_store\",\"resourceId\":\"{store}\",\"userId\":\"" + new string('u', 170) + "\",\"role\":\"reader\"}", "userId", "string_above_max_length" },
        { "POST", "grant", """{"resourceType":"vector_store","resourceId":"vs/../x","userId":"u","role":"reader"}""", "resourceId", "invalid_value" },
        { "POST", "grant", """{"resourceType":"vector_store","resourceId":"*","userId":"u","role":"reader"}""", "resourceId", "invalid_value" },
        { "POST", "grant", """{"resourceType":"vector_store","userId":"u","role":"reader"}""", "resourceId", "missing_required_parameter" },
        { "POST", "grant", """{"resourceType":"vector_store","resourceId":7,"userId":"u","role":"reader"}""", "resourceId", "invalid_type" },
        { "POST", "revoke", """{"resourceType":"completion","resourceId":"c1","userId":"u","role":"reader"}""", "resourceType", "unsupported_resource_type" },
        { "POST", "grant", "not json", null, "invalid_json" },
        { "GET", "check", "resourceType=response&resourceId=r1&role=reader", "resourceType", "unsupported_resource_type" },
        { "GET", "check", "resourceType=vector_store&resourceId={store}", "role", "missing_required_parameter" },
        { "GET", "list", "role=reader", "resourceType", "missing_required_parameter" },
        { "GET", "list", "resourceType=vector_store&role=boss", "role", "invalid_value" },
        { "GET", "list", "resourceType=vector_store&limit=0", "limit", "invalid_value" },
        { "GET", "list", "resourceType=vector_store&continuationToken=" + new string('A', 5000), "continuationToken", "invalid_continuation_token" },
        { "GET", "list", "resourceType=vector_store&continuationToken=%25%25%25", "continuationToken", "invalid_continuation_token" },
        { "POST", "create", """{"resourceType":"conversation","resourceId":"c1"}""", "resourceType", "unsupported_resource_type" },
        { "POST", "create", """{"resourceType":"vector_store","resourceId":"{store}","overwrite":"yes"}""", "overwrite", "invalid_type" },
        { "DELETE", "delete", """{"resourceType":"vector_store"}""", "resourceId", "missing_required_parameter" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_a_precise_400_and_changes_nothing(string method, string path, string input, string? param, string code)
    {
        var (owner, storeId) = await NewStoreAsync("/v1");
        var userId = AccessTestKit.NewUserId();
        await owner.GrantAsync("vector_store", storeId, userId, "reader");
        input = input.Replace("{store}", storeId, StringComparison.Ordinal);
        using var response = method == "GET"
            ? await owner.GetAsync($"{Authz}/{path}?{input}", Ct)
            : await owner.SendAsync(new HttpMethod(method), $"{Authz}/{path}", input);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", param, code);

        Assert.True(await factory.As(userId).CheckAsync("vector_store", storeId, "reader"));
        Assert.False(await factory.As(userId).CheckAsync("vector_store", storeId, "writer"));
        Assert.False(await factory.As("u").CheckAsync("vector_store", storeId, "reader"));
    }

    [Fact]
    public async Task Authorization_routes_need_a_credential()
    {
        using var response = await factory.CreateApiClient(apiKey: null).GetAsync($"{Authz}/list?resourceType=file", Ct);
        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "authentication_error", null);
    }

    private async Task<(HttpClient Owner, string StoreId)> NewStoreAsync(string prefix)
    {
        var owner = factory.As(AccessTestKit.NewUserId("owner"));
        return (owner, (string)(await owner.CreateStoreAsync(prefix))["id"]!);
    }
}
