using System.Net;
using System.Net.Http.Headers;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>Rate limits and access tokens across two real server processes on one PostgreSQL database.</summary>
public sealed partial class MultiProcessPostgresTests
{
    [Fact]
    public async Task A_rate_limit_and_a_token_hold_across_two_processes()
    {
        var (a, b) = await StartTwoAsync(leaseSeconds: 30);
        // A day window: real clocks, and a test run does not straddle midnight UTC in practice.
        var key = await a.Client.PostJsonAsync("/api/v1/admin/keys", """{"name":"shared","project":"shared","rate_limit":"5/d"}""");
        var secret = (string)key["secret"]!;
        var onA = Bearer(a, secret);
        var onB = Bearer(b, secret);

        // A token exchanged in one process is accepted by the other (the key ring is in the database).
        var exchanged = await onA.PostJsonAsync("/api/v1/authentication/api-key/exchange-token", """{"audience":"urn:quiver","externalUserId":"alice"}""");
        var tokenOnB = Bearer(b, (string)exchanged["token"]!);

        var statuses = new List<HttpStatusCode>();
        foreach (var client in new[] { tokenOnB, onA, onB, onA })
        {
            using var response = await client.GetAsync("/v1/files", Ct);
            statuses.Add(response.StatusCode);
        }

        // Five requests counted (the exchange included), alternating processes; the sixth is refused wherever it goes.
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 4), statuses);
        foreach (var client in new[] { onB, onA, tokenOnB })
        {
            using var refused = await client.GetAsync("/v1/files", Ct);
            await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error", null, "rate_limit_exceeded");
            var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 86_400);
        }
    }

    private static HttpClient Bearer(ServerProcess server, string credential)
    {
        var client = new HttpClient { BaseAddress = server.Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        return client;
    }
}
