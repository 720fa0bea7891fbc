namespace Quiver.Core.Keys;

/// <summary>
/// Fixed windows counted in this process: right for the embedded backend, where one process
/// serves the data directory. Time comes from <see cref="TimeProvider"/>, so tests step a fake clock
/// (<c>System.Threading.RateLimiting</c>'s limiters run on real timers, which a fake clock cannot drive).
/// </summary>
internal sealed class InMemoryRateLimiter(TimeProvider time) : IRateLimiter
{
    private readonly Dictionary<(string KeyId, int Seconds), (long Start, long Count)> _counters = [];
    private readonly Lock _lock = new();

    /// <inheritdoc/>
    public ValueTask<RateLimitDecision> TryAcquireAsync(string keyId, RateLimitPolicy policy, CancellationToken ct)
    {
        if (policy.IsNone)
        {
            return ValueTask.FromResult(RateLimitDecision.Allow);
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        lock (_lock)
        {
            RateLimitDecision? refused = null;
            foreach (var window in policy.Windows)
            {
                var start = FixedWindows.Start(now, window.Seconds);
                var count = _counters.TryGetValue((keyId, window.Seconds), out var c) && c.Start == start ? c.Count : 0;
                if (count >= window.Limit)
                {
                    // The longest full window decides when a retry can pass.
                    refused = new RateLimitDecision(false, FixedWindows.RetryAfter(start, window.Seconds, now), window);
                }
            }

            if (refused is { } decision)
            {
                return ValueTask.FromResult(decision);
            }

            foreach (var window in policy.Windows)
            {
                var start = FixedWindows.Start(now, window.Seconds);
                var count = _counters.TryGetValue((keyId, window.Seconds), out var c) && c.Start == start ? c.Count : 0;
                _counters[(keyId, window.Seconds)] = (start, count + 1);
            }
        }

        return ValueTask.FromResult(RateLimitDecision.Allow);
    }
}
