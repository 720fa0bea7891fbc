using System.Net;
using Quiver.IntegrationTests.Batches;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Access;

/// <summary>The role matrix on the embedded backend.</summary>
public sealed class AccessMatrixTests(QuiverFactory factory) : AccessMatrixContract<QuiverFactory>(factory);

/// <summary>The same matrix on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class AccessMatrixPostgresTests : AccessMatrixContract<PostgresQuiverFactory>
{
    public AccessMatrixPostgresTests(PostgresQuiverFactory factory)
        : base(factory) => PostgresTestServer.RequireOrSkip();
}

/// <summary>
/// Every file and vector store route × every role: a caller with no role gets 404 (the object
/// might as well not exist), a role below the route's need gets 403 <c>permission_error</c>, and
/// the role the route needs (or a higher one) succeeds. Roles are granted on the store and on its
/// files through the authorization API, as a client would.
/// </summary>
public abstract class AccessMatrixContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    /// <summary>The roles a caller can hold, weakest first; <c>none</c> is a user of the same project with no grant.</summary>
    private static readonly string[] Roles = ["none", "reader", "writer", "owner"];

    /// <summary>One route: the role it needs, whether success changes what later callers see, and the request.</summary>
    private sealed record Route(string Needs, bool Mutates, HttpStatusCode Success, string Param, Func<HttpClient, World, Task<HttpResponseMessage>> Send);

    /// <summary>An owner's store with one completed file attached through a batch, and a second file of theirs not attached.</summary>
    private sealed record World(HttpClient Owner, string StoreId, string FileId, string BatchId, string SpareFileId);

    private static readonly Dictionary<string, Route> Routes = new(StringComparer.Ordinal)
    {
        ["retrieve store"] = new("reader", false, HttpStatusCode.OK, "vector_store_id", (c, w) => c.GetAsync($"/v1/vector_stores/{w.StoreId}", Ct)),
        ["search"] = new("reader", false, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.SendAsync(HttpMethod.Post, $"/v1/vector_stores/{w.StoreId}/search", """{"query":"zebra0"}""")),
        ["list store files"] = new("reader", false, HttpStatusCode.OK, "vector_store_id", (c, w) => c.GetAsync($"/v1/vector_stores/{w.StoreId}/files", Ct)),
        ["retrieve store file"] = new("reader", false, HttpStatusCode.OK, "vector_store_id", (c, w) => c.GetAsync($"/v1/vector_stores/{w.StoreId}/files/{w.FileId}", Ct)),
        ["parsed content"] = new("reader", false, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.GetAsync($"/v1/vector_stores/{w.StoreId}/files/{w.FileId}/content", Ct)),
        ["retrieve batch"] = new("reader", false, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.GetAsync($"/v1/vector_stores/{w.StoreId}/file_batches/{w.BatchId}", Ct)),
        ["list batch files"] = new("reader", false, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.GetAsync($"/v1/vector_stores/{w.StoreId}/file_batches/{w.BatchId}/files", Ct)),
        ["retrieve file"] = new("reader", false, HttpStatusCode.OK, "file_id", (c, w) => c.GetAsync($"/v1/files/{w.FileId}", Ct)),
        ["file content"] = new("reader", false, HttpStatusCode.OK, "file_id", (c, w) => c.GetAsync($"/v1/files/{w.FileId}/content", Ct)),
        ["modify store"] = new("writer", true, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.SendAsync(HttpMethod.Post, $"/v1/vector_stores/{w.StoreId}", """{"name":"renamed"}""")),
        ["attach file"] = new("writer", true, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.SendAsync(HttpMethod.Post, $"/v1/vector_stores/{w.StoreId}/files", $$"""{"file_id":"{{w.SpareFileId}}"}""")),
        ["update attributes"] = new("writer", true, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.SendAsync(HttpMethod.Post, $"/v1/vector_stores/{w.StoreId}/files/{w.FileId}", """{"attributes":{"k":"v"}}""")),
        ["detach file"] = new("writer", true, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.DeleteAsync($"/v1/vector_stores/{w.StoreId}/files/{w.FileId}", Ct)),
        ["create batch"] = new("writer", true, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.SendAsync(HttpMethod.Post, $"/v1/vector_stores/{w.StoreId}/file_batches", $$"""{"file_ids":["{{w.SpareFileId}}"]}""")),
        ["cancel batch"] = new("writer", true, HttpStatusCode.OK, "vector_store_id",
            (c, w) => c.SendAsync(HttpMethod.Post, $"/v1/vector_stores/{w.StoreId}/file_batches/{w.BatchId}/cancel")),
        ["delete store"] = new("owner", true, HttpStatusCode.OK, "vector_store_id", (c, w) => c.DeleteAsync($"/v1/vector_stores/{w.StoreId}", Ct)),
        ["delete file"] = new("owner", true, HttpStatusCode.OK, "file_id", (c, w) => c.DeleteAsync($"/v1/files/{w.FileId}", Ct)),
        ["grant"] = new("owner", true, HttpStatusCode.NoContent, "resourceId",
            (c, w) => c.SendAsync(HttpMethod.Post, $"{AccessTestKit.Authz}/grant", AccessTestKit.Relationship("vector_store", w.StoreId, "someone", "reader"))),
        ["revoke"] = new("owner", true, HttpStatusCode.NoContent, "resourceId",
            (c, w) => c.SendAsync(HttpMethod.Post, $"{AccessTestKit.Authz}/revoke", AccessTestKit.Relationship("vector_store", w.StoreId, "someone", "reader"))),
        ["delete relationships"] = new("owner", true, HttpStatusCode.NoContent, "resourceId",
            (c, w) => c.SendAsync(HttpMethod.Delete, $"{AccessTestKit.Authz}/delete", $$"""{"resourceType":"vector_store","resourceId":"{{w.StoreId}}"}""")),
    };

    public static TheoryData<string> RouteNames => new(Routes.Keys);

    [Theory]
    [MemberData(nameof(RouteNames))]
    public async Task Each_role_gets_the_status_the_route_requires(string routeName)
    {
        var route = Routes[routeName];
        var world = await NewWorldAsync();
        foreach (var role in Roles)
        {
            var user = AccessTestKit.NewUserId(role);
            if (role != "none")
            {
                await GrantAllAsync(world, user, role);
            }

            using var response = await route.Send(factory.As(user), world);
            if (role == "none")
            {
                await response.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", route.Param);
            }
            else if (Rank(role) < Rank(route.Needs))
            {
                var error = await response.AssertErrorAsync(HttpStatusCode.Forbidden, "permission_error", null, "insufficient_role");
                Assert.Contains($"'{role}'", (string)error["error"]!["message"]!);
                Assert.Contains($"'{route.Needs}'", (string)error["error"]!["message"]!);
            }
            else
            {
                var body = await response.Content.ReadAsStringAsync(Ct);
                Assert.True(response.StatusCode == route.Success, $"{routeName} as {role}: expected {(int)route.Success}, got {(int)response.StatusCode}: {body}");
                if (route.Mutates)
                {
                    world = await NewWorldAsync();
                }
            }
        }

        // The creator holds every role without any grant.
        using var own = await route.Send(world.Owner, world);
        Assert.Equal(route.Success, own.StatusCode);
    }

    [Fact]
    public async Task A_store_granted_to_no_one_answers_a_stranger_exactly_as_a_missing_store()
    {
        var world = await NewWorldAsync();
        var stranger = factory.As(AccessTestKit.NewUserId("stranger"));
        using var hidden = await stranger.GetAsync($"/v1/vector_stores/{world.StoreId}", Ct);
        var hiddenBody = await hidden.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(
            $$$"""{"error":{"message":"No vector store found with id '{{{world.StoreId}}}'.","type":"invalid_request_error","param":"vector_store_id","code":null}}""",
            hiddenBody);

        var reader = AccessTestKit.NewUserId("reader");
        await world.Owner.GrantAsync("vector_store", world.StoreId, reader, "reader");
        using var denied = await factory.As(reader).DeleteAsync($"/v1/vector_stores/{world.StoreId}", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal(
            $$$"""{"error":{"message":"You hold the 'reader' role on vector_store '{{{world.StoreId}}}', but this operation needs 'owner'. Ask an owner of the resource to grant it.","type":"permission_error","param":null,"code":"insufficient_role"}}""",
            await denied.Content.ReadAsStringAsync(Ct));

        // The denied delete changed nothing.
        Assert.Equal(world.StoreId, (string?)(await world.Owner.GetJsonAsync($"/v1/vector_stores/{world.StoreId}"))["id"]);
    }

    [Fact]
    public async Task A_writer_attaches_their_own_file_to_a_shared_store_but_not_a_file_they_cannot_see()
    {
        var world = await NewWorldAsync();
        var writerId = AccessTestKit.NewUserId("writer");
        var writer = factory.As(writerId);
        await world.Owner.GrantAsync("vector_store", world.StoreId, writerId, "writer");
        var own = (string)(await writer.UploadAsync("/v1", "mine.txt", "the writer's own notes about zebras"))["id"]!;
        var attached = await writer.AttachAsync("/v1", world.StoreId, own);
        Assert.Equal(own, (string?)attached["id"]);
        Assert.Equal("completed", (string?)(await writer.WaitForFileAsync("/v1", world.StoreId, own))["status"]);

        // The owner sees the file in their store; the owner's own spare file was never shared with the writer.
        Assert.Contains(own, (await world.Owner.GetJsonAsync($"/v1/vector_stores/{world.StoreId}/files")).Ids());
        using var hidden = await writer.SendAsync(HttpMethod.Post, $"/v1/vector_stores/{world.StoreId}/files", $$"""{"file_id":"{{world.SpareFileId}}"}""");
        await hidden.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "file_id");
    }

    private static int Rank(string role) => Array.IndexOf(Roles, role);

    private async Task<World> NewWorldAsync()
    {
        var owner = factory.As(AccessTestKit.NewUserId("owner"));
        var files = await owner.UploadManyAsync(2);
        var storeId = (string)(await owner.CreateStoreAsync("/v1"))["id"]!;
        var batchId = (string)(await owner.CreateBatchAsync(storeId, [files[0]]))["id"]!;
        Assert.Equal("completed", (string?)(await owner.WaitForBatchAsync("/v1", storeId, batchId))["status"]);
        return new World(owner, storeId, files[0], batchId, files[1]);
    }

    /// <summary>The role on the store and on both files, so store routes and file routes see the same role.</summary>
    private static async Task GrantAllAsync(World world, string user, string role)
    {
        await world.Owner.GrantAsync("vector_store", world.StoreId, user, role);
        await world.Owner.GrantAsync("file", world.FileId, user, role);
        await world.Owner.GrantAsync("file", world.SpareFileId, user, role);
    }
}
