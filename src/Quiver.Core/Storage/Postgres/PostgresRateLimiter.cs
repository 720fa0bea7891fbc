using Quiver.Core.Keys;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// Fixed windows counted in the database, so a key's limit holds across every process on it.
/// One row per (key, window length) is upserted for each request; when a window would go over
/// its limit the transaction rolls back, so a refused request counts nowhere. The row locks make
/// concurrent requests of one key queue for a moment (windows are locked shortest first, always
/// in the same order, so they cannot deadlock). Time comes from the process's
/// <see cref="TimeProvider"/>; a process whose clock lags keeps counting into the newer window.
/// </summary>
internal sealed class PostgresRateLimiter(PostgresDatabase database, TimeProvider time) : IRateLimiter
{
    /// <inheritdoc/>
    public async ValueTask<RateLimitDecision> TryAcquireAsync(string keyId, RateLimitPolicy policy, CancellationToken ct)
    {
        if (policy.IsNone)
        {
            return RateLimitDecision.Allow;
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var seconds = policy.Windows.Select(w => (long)w.Seconds).ToArray();
        var starts = policy.Windows.Select(w => FixedWindows.Start(now, w.Seconds)).ToArray();

        await using var connection = await database.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var counts = new Dictionary<long, (long Start, long Count)>();
        await using (var command = connection.Command(
                   """
                   INSERT INTO rate_limit_counters AS c (key_id, window_seconds, window_start, count)
                   SELECT @key, w.seconds, w.start, 1 FROM unnest(@seconds, @starts) WITH ORDINALITY AS w (seconds, start, ord)
                   ORDER BY w.ord
                   ON CONFLICT (key_id, window_seconds) DO UPDATE
                   SET count = CASE WHEN excluded.window_start > c.window_start THEN 1 ELSE c.count + 1 END,
                       window_start = GREATEST(c.window_start, excluded.window_start)
                   RETURNING window_seconds, window_start, count
                   """, transaction)
                   .With("key", keyId).With("seconds", seconds).With("starts", starts))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                counts[reader.GetInt64(0)] = (reader.GetInt64(1), reader.GetInt64(2));
            }
        }

        RateLimitDecision? refused = null;
        foreach (var window in policy.Windows)
        {
            if (counts.TryGetValue(window.Seconds, out var c) && c.Count > window.Limit)
            {
                refused = new RateLimitDecision(false, FixedWindows.RetryAfter(c.Start, window.Seconds, now), window);
            }
        }

        if (refused is { } decision)
        {
            await transaction.RollbackAsync(ct);
            return decision;
        }

        await transaction.CommitAsync(ct);
        return RateLimitDecision.Allow;
    }
}
