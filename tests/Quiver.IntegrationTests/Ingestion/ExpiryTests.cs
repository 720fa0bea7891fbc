using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Quiver.Core.Ingestion;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Ingestion;

/// <summary>D12: stores expire <c>days</c> after their last activity; expired stores refuse new files but stay manageable.</summary>
public abstract class ExpiryContract<TFactory>
    where TFactory : QuiverFactory, new()
{
    [Theory]
    [MemberData(nameof(Prefixes), MemberType = typeof(Api))]
    public async Task An_idle_store_expires_refuses_attach_but_can_be_read_updated_and_deleted(string prefix)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = new TFactory { ConfigureTestServices = services => services.AddSingleton<TimeProvider>(clock) }
            // The background sweep runs once at start, then not again within the two fake days (the 30-day maximum interval).
            .With("Quiver:Ingestion:SweepIntervalSeconds", "2592000");
        var client = factory.NewUser();
        var fileId = (string)(await client.UploadAsync(prefix, "a.txt", "Expiring store content about pelicans."))["id"]!;
        var store = await client.CreateStoreAsync(prefix, $$$"""{"name":"Ephemeral","file_ids":["{{{fileId}}}"],"expires_after":{"anchor":"last_active_at","days":1}}""");
        var storeId = (string)store["id"]!;
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds() + 86_400, (long)store["expires_at"]!);
        Assert.Equal("completed", (string?)(await client.WaitForFileAsync(prefix, storeId, fileId))["status"]);
        var other = (string)(await client.CreateStoreAsync(prefix))["id"]!;

        clock.Advance(TimeSpan.FromDays(2));

        var expired = await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}");
        Assert.Equal("expired", (string?)expired["status"]);
        Assert.Equal(1, expired.Count("completed"));
        Assert.Equal("completed", (string?)(await client.GetJsonAsync($"{prefix}/vector_stores/{other}"))["status"]);

        var second = (string)(await client.UploadAsync(prefix, "b.txt", "More text"))["id"]!;
        using (var content = new StringContent($$"""{"file_id":"{{second}}"}""", System.Text.Encoding.UTF8, "application/json"))
        using (var attach = await client.PostAsync($"{prefix}/vector_stores/{storeId}/files", content, Ct))
        {
            await attach.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "vector_store_id", "vector_store_expired");
        }

        using (var content = new StringContent($$"""{"file_ids":["{{second}}"]}""", System.Text.Encoding.UTF8, "application/json"))
        using (var batch = await client.PostAsync($"{prefix}/vector_stores/{storeId}/file_batches", content, Ct))
        {
            var error = await batch.ReadJsonAsync(HttpStatusCode.BadRequest);
            Assert.Equal("vector_store_expired", (string?)error["error"]!["code"]);
        }

        Assert.Equal(1, (await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}")).Count("total"));

        // Listing and retrieving still work, and show it expired.
        var listed = (await client.GetJsonAsync($"{prefix}/vector_stores")).AsObject()["data"]!.AsArray()
            .Single(s => (string?)s!["id"] == storeId)!;
        Assert.Equal("expired", (string?)listed["status"]);
        Assert.Equal("completed", (string?)(await client.GetJsonAsync($"{prefix}/vector_stores/{storeId}/files/{fileId}"))["status"]);

        // The sweeper persists what the API already computes.
        Assert.False(await factory.IsMarkedExpiredAsync(storeId));
        await factory.Services.GetRequiredService<IngestionSweeper>().SweepOnceAsync(Ct);
        Assert.True(await factory.IsMarkedExpiredAsync(storeId));
        Assert.False(await factory.IsMarkedExpiredAsync(other));

        var updated = await client.PostJsonAsync($"{prefix}/vector_stores/{storeId}", """{"name":"Renamed while expired"}""");
        Assert.Equal("Renamed while expired", (string?)updated["name"]);
        Assert.Equal("expired", (string?)updated["status"]);

        var deleted = await (await client.DeleteAsync($"{prefix}/vector_stores/{storeId}", Ct)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.True((bool)deleted["deleted"]!);
        Assert.Equal(0, await factory.CountChunksAsync(storeId));
    }
}

public sealed class ExpiryTests : ExpiryContract<QuiverFactory>;

/// <summary>The same contract on PostgreSQL (skipped locally without <c>QUIVER_TEST_PG</c>, failing in CI).</summary>
public sealed class ExpiryPostgresTests : ExpiryContract<PostgresQuiverFactory>
{
    public ExpiryPostgresTests() => PostgresTestServer.RequireOrSkip();
}
