using System.Net;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Auth.AuthTestKit;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Auth;

public sealed class RateLimitTests : RateLimitContract<QuiverFactory>;

public sealed class RateLimitPostgresTests : RateLimitContract<PostgresQuiverFactory>
{
    public RateLimitPostgresTests() => PostgresTestServer.RequireOrSkip();

    /// <summary>Two app instances on one database share the counters: the limit holds across both.</summary>
    [Fact]
    public async Task A_limit_holds_across_two_instances_on_one_database()
    {
        var clock = NewClock();
        await using var first = WithClock<PostgresQuiverFactory>(clock);
        var (_, secret) = await first.CreateKeyAsync("""{"name":"shared","rate_limit":"5/m"}""");
        // A second host (own services, own limiter) with the same settings, clock and database.
        var second = first.WithWebHostBuilder(_ => { });
        var a = first.Bearer(secret);
        var b = second.CreateClient();
        b.DefaultRequestHeaders.Authorization = BearerHeader(secret);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await (i % 2 == 0 ? a : b).GetAsync("/v1/files", Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), HttpStatusCode.TooManyRequests], statuses);
        using var refused = await a.GetAsync("/v1/files", Ct);
        Assert.Equal("60", refused.Headers.GetValues("Retry-After").Single());
    }
}

/// <summary>
/// Per-key rate limits (MKA1 §1.4): several windows at once, refusal with 429, the OpenAI envelope
/// and Retry-After before any work is done; refused requests count in no window; tokens count
/// against the key that exchanged them. Time is a fake clock half a second into a minute.
/// </summary>
public abstract class RateLimitContract<TFactory>
    where TFactory : QuiverFactory, new()
{
    [Fact]
    public async Task The_request_after_the_limit_is_429_with_retry_after_and_no_work_done()
    {
        var clock = NewClock();
        await using var factory = WithClock<TFactory>(clock);
        var (_, secret) = await factory.CreateKeyAsync("""{"name":"limited","project":"limited","rate_limit":"3/s,5/m"}""");
        var client = factory.Bearer(secret);

        for (var i = 0; i < 3; i++)
        {
            await client.PostJsonAsync("/v1/vector_stores", $$"""{"name":"s{{i}}"}""");
        }

        using (var refused = await client.PostAsync("/v1/vector_stores", """{"name":"refused"}"""))
        {
            var body = await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error", null, "rate_limit_exceeded");
            Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
            Assert.False(refused.Headers.Contains("x-should-retry"));
            Assert.Contains("3 requests per second", (string?)body["error"]!["message"]);
        }

        // The next second: two more fit the minute (the refused request counted nowhere), then the minute is full.
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, (await client.GetJsonAsync("/v1/vector_stores"))["data"]!.AsArray().Count);
        var token = await factory.ExchangeAsync(secret, "alice");
        using (var byToken = await factory.Bearer(token).GetAsync("/v1/vector_stores", Ct))
        {
            await byToken.AssertErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error", null, "rate_limit_exceeded");
            Assert.Equal("59", byToken.Headers.GetValues("Retry-After").Single());
        }

        using (var byKey = await client.PostAsync("/v1/vector_stores", """{"name":"refused"}"""))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, byKey.StatusCode);
            Assert.Contains("5 requests per minute", await byKey.Content.ReadAsStringAsync(Ct));
        }

        // Other keys are not affected, and the refused creates did nothing.
        var stores = await factory.CreateApiClient().GetJsonAsync("/v1/vector_stores");
        Assert.Empty(stores["data"]!.AsArray());

        clock.Advance(TimeSpan.FromSeconds(59));
        var names = (await client.GetJsonAsync("/v1/vector_stores"))["data"]!.AsArray().Select(s => (string)s!["name"]!).Order();
        Assert.Equal(["s0", "s1", "s2"], names);
    }

    [Fact]
    public async Task An_admin_changes_a_keys_limit_over_http_and_it_applies_on_the_next_request()
    {
        var clock = NewClock();
        await using var factory = WithClock<TFactory>(clock);
        var (id, secret) = await factory.CreateKeyAsync("""{"name":"tuned","permissions":["a:b"]}""");
        var client = factory.Bearer(secret);
        var admin = factory.CreateApiClient();
        var updated = await admin.PostJsonAsync($"/api/v1/admin/keys/{id}", """{"rate_limit":"4/m"}""");
        Assert.Equal("4/m", (string?)updated["rate_limit"]);
        Assert.Equal("""["a:b"]""", updated["permissions"]!.ToJsonString());
        for (var i = 0; i < 4; i++)
        {
            await client.GetJsonAsync("/v1/files");
        }

        using (var refused = await client.GetAsync("/v1/files", Ct))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        // Removing the limit (and replacing the permissions).
        var cleared = await admin.PostJsonAsync($"/api/v1/admin/keys/{id}", """{"rate_limit":null,"permissions":[]}""");
        Assert.Null(cleared["rate_limit"]);
        Assert.Equal("[]", cleared["permissions"]!.ToJsonString());
        await client.GetJsonAsync("/v1/files");

        using (var unknown = await admin.PostAsync($"/api/v1/admin/keys/{id}", """{"name":"renamed"}"""))
        {
            await unknown.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "name", "unknown_parameter");
        }

        using (var bad = await admin.PostAsync($"/api/v1/admin/keys/{id}", """{"rate_limit":"4/fortnight"}"""))
        {
            await bad.AssertErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error", "rate_limit", "invalid_rate_limit");
        }

        using (var missing = await admin.PostAsync("/api/v1/admin/keys/key_000000000000000000000000", """{"rate_limit":"1/s"}"""))
        {
            await missing.AssertErrorAsync(HttpStatusCode.NotFound, "invalid_request_error", "key_id");
        }
    }

    [Fact]
    public async Task Keys_without_a_limit_are_never_refused()
    {
        await using var factory = new TFactory();
        var (_, secret) = await factory.CreateKeyAsync("""{"name":"free"}""");
        var client = factory.Bearer(secret);
        for (var i = 0; i < 30; i++)
        {
            using var response = await client.GetAsync("/v1/files", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
