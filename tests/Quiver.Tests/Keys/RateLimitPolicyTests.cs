using Microsoft.Extensions.Time.Testing;
using Quiver.Core.Errors;
using Quiver.Core.Keys;

namespace Quiver.Tests.Keys;

public sealed class RateLimitPolicyTests
{
    [Theory]
    [InlineData("10/s", "10/s")]
    [InlineData("10/s,5000/h", "10/s,5000/h")]
    [InlineData(" 5000 / hour , 10/second ", "10/s,5000/h")]
    [InlineData("1/d,2/m,3/h,4/s", "4/s,2/m,3/h,1/d")]
    [InlineData("100/min,7/days", "100/m,7/d")]
    [InlineData("1000000000/S", "1000000000/s")]
    public void Valid_specs_parse_to_their_canonical_form(string spec, string canonical)
    {
        var policy = RateLimitPolicy.Parse(spec);
        Assert.Equal(canonical, policy.ToString());
        Assert.Equal(policy, RateLimitPolicy.Parse(canonical));
        Assert.Equal(policy, RateLimitPolicy.FromStored(policy.ToString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("none")]
    public void Empty_specs_mean_no_limit(string? spec)
    {
        var policy = RateLimitPolicy.Parse(spec);
        Assert.True(policy.IsNone);
        Assert.Equal("", policy.ToString());
    }

    [Theory]
    [InlineData("10", "not of the form")]
    [InlineData("/s", "not of the form")]
    [InlineData("10/", "not of the form")]
    [InlineData("0/s", "whole number")]
    [InlineData("-1/s", "whole number")]
    [InlineData("1.5/s", "whole number")]
    [InlineData("1000000001/s", "whole number")]
    [InlineData("10/w", "unit")]
    [InlineData("10/s,20/sec", "twice")]
    [InlineData("10/s,,5/h", "not of the form")]
    public void Malformed_specs_are_400_naming_the_parameter(string spec, string reason)
    {
        var error = Assert.Throws<ApiException>(() => RateLimitPolicy.Parse(spec, "rate_limit"));
        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.Equal("rate_limit", error.Param);
        Assert.Equal("invalid_rate_limit", error.Code);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_spec_longer_than_200_characters_is_refused()
    {
        var spec = string.Join(',', Enumerable.Repeat("1/s", 60));
        Assert.Throws<ApiException>(() => RateLimitPolicy.Parse(spec));
        Assert.True(RateLimitPolicy.FromStored(spec).IsNone);
    }

    [Fact]
    public void Windows_describe_themselves()
    {
        Assert.Equal(["1 request per second", "5000 requests per hour"], RateLimitPolicy.Parse("1/s,5000/h").Windows.Select(w => w.Describe()));
    }

    [Fact]
    public async Task The_in_memory_limiter_refuses_the_request_after_the_limit_until_the_window_resets()
    {
        // 12:00:00.5 UTC: the second window ends in 0.5 s (Retry-After rounds up to 1), the minute window in 59.5 s.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, 500, TimeSpan.Zero));
        var limiter = new InMemoryRateLimiter(clock);
        var policy = RateLimitPolicy.Parse("2/s,3/m");
        var ct = TestContext.Current.CancellationToken;

        Assert.True((await limiter.TryAcquireAsync("key_a", policy, ct)).Allowed);
        Assert.True((await limiter.TryAcquireAsync("key_a", policy, ct)).Allowed);
        var refused = await limiter.TryAcquireAsync("key_a", policy, ct);
        Assert.False(refused.Allowed);
        Assert.Equal(1, refused.RetryAfterSeconds);
        Assert.Equal(1, refused.Exceeded!.Value.Seconds);

        // Another key has its own counters.
        Assert.True((await limiter.TryAcquireAsync("key_b", policy, ct)).Allowed);

        // The next second: one more fits the minute (refused requests did not count), then the minute is full.
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await limiter.TryAcquireAsync("key_a", policy, ct)).Allowed);
        var minute = await limiter.TryAcquireAsync("key_a", policy, ct);
        Assert.False(minute.Allowed);
        Assert.Equal(59, minute.RetryAfterSeconds);
        Assert.Equal(60, minute.Exceeded!.Value.Seconds);

        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.True((await limiter.TryAcquireAsync("key_a", policy, ct)).Allowed);
    }

    [Fact]
    public async Task No_policy_never_refuses()
    {
        var limiter = new InMemoryRateLimiter(new FakeTimeProvider());
        for (var i = 0; i < 1000; i++)
        {
            Assert.True((await limiter.TryAcquireAsync("key_a", RateLimitPolicy.None, TestContext.Current.CancellationToken)).Allowed);
        }
    }
}
