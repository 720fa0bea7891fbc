namespace Quiver.Core.Keys;

/// <summary>The answer to one request against a key's rate limit.</summary>
/// <param name="Allowed">Whether the request may proceed (and was counted).</param>
/// <param name="RetryAfterSeconds">When refused: seconds until the fullest refusing window resets (at least 1).</param>
/// <param name="Exceeded">When refused: the longest window that had no room.</param>
public readonly record struct RateLimitDecision(bool Allowed, int RetryAfterSeconds, RateLimitWindow? Exceeded)
{
    public static RateLimitDecision Allow { get; } = new(true, 0, null);
}

/// <summary>
/// Counts requests per API key in fixed windows. A refused request counts in no window, so a
/// client that keeps retrying too early does not push its own reset further away.
/// </summary>
public interface IRateLimiter
{
    /// <summary>Counts one request of <paramref name="keyId"/> against every window of <paramref name="policy"/>, unless one is full.</summary>
    ValueTask<RateLimitDecision> TryAcquireAsync(string keyId, RateLimitPolicy policy, CancellationToken ct);
}

/// <summary>Fixed-window arithmetic shared by the limiters.</summary>
internal static class FixedWindows
{
    /// <summary>Start (Unix seconds) of the window of <paramref name="seconds"/> that holds <paramref name="now"/>.</summary>
    public static long Start(long now, int seconds) => now - (((now % seconds) + seconds) % seconds);

    /// <summary>Seconds from <paramref name="now"/> until the window starting at <paramref name="start"/> ends; at least 1.</summary>
    public static int RetryAfter(long start, int seconds, long now) => (int)Math.Max(1, start + seconds - now);
}
