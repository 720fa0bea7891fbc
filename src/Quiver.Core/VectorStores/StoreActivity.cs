using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Quiver.Core.VectorStores;

/// <summary>
/// Activity that slides a store's <c>last_active_at</c> (and, with a <c>last_active_at</c> expiry policy, its
/// <c>expires_at</c>) without a write on the read path: a search records the time here, and
/// <see cref="StoreActivityFlusher"/> writes the latest time per store once per <see cref="FlushInterval"/>,
/// however many searches came in. Until then this process's reads show the pending time (<see cref="Apply"/>),
/// so a client sees its own search move the store at once; another process sharing PostgreSQL sees it after
/// the next flush. Pending times are written on shutdown; a crash loses at most one interval of sliding.
/// </summary>
internal sealed class StoreActivity
{
    /// <summary>How often pending activity is written.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, long> _pending = new(StringComparer.Ordinal);

    /// <summary>Notes that the store was active at <paramref name="now"/> (Unix seconds) unless it already shows that.</summary>
    public void Record(VectorStoreRecord store, long now)
    {
        if (Apply(store).LastActiveAt < now)
        {
            _pending.AddOrUpdate(store.Id, now, (_, known) => Math.Max(known, now));
        }
    }

    /// <summary>The store as it will read once pending activity is written.</summary>
    public VectorStoreRecord Apply(VectorStoreRecord store)
    {
        if (!_pending.TryGetValue(store.Id, out var at) || at <= store.LastActiveAt || store.IsExpired(at))
        {
            return store;
        }

        return store with
        {
            LastActiveAt = at,
            ExpiresAt = store.ExpiresAfterDays is { } days ? at + days * 86_400L : store.ExpiresAt,
        };
    }

    /// <summary>Takes the pending times to write; a time recorded meanwhile stays for the next flush.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Drain()
    {
        var taken = new List<KeyValuePair<string, long>>(_pending.Count);
        foreach (var entry in _pending)
        {
            // Removes the entry only if no later time replaced it since it was read.
            if (_pending.TryRemove(entry))
            {
                taken.Add(entry);
            }
        }

        return taken;
    }

    /// <summary>Puts back times whose write failed, unless a later time arrived.</summary>
    public void Restore(IEnumerable<KeyValuePair<string, long>> entries)
    {
        foreach (var (storeId, at) in entries)
        {
            _pending.AddOrUpdate(storeId, at, (_, known) => Math.Max(known, at));
        }
    }
}

/// <summary>Writes <see cref="StoreActivity"/> to the database every interval and on shutdown.</summary>
internal sealed partial class StoreActivityFlusher(
    StoreActivity activity, IVectorStoreRepository stores, TimeProvider time, ILogger<StoreActivityFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(StoreActivity.FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    /// <summary>Writes what is pending now (also called by tests that need it in the database).</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        var pending = activity.Drain();
        for (var i = 0; i < pending.Count; i++)
        {
            try
            {
                await stores.TouchStoreAsync(pending[i].Key, pending[i].Value, ct);
            }
            catch (Exception e)
            {
                activity.Restore(pending.Skip(i));
                if (e is OperationCanceledException && ct.IsCancellationRequested)
                {
                    throw;
                }

                LogFlushFailed(logger, e);
                return;
            }
        }
    }

    [LoggerMessage(EventId = 3120, Level = LogLevel.Warning, Message = "Could not write store activity; will retry")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
