using System.Collections.Concurrent;

namespace Quiver.Core.Search.Indexes;

/// <summary>
/// A store's file ids as small integers for the in-memory indexes (an ordinal per file, never reused within the
/// store's index), so a scan tests an int against the allowed set instead of a string.
/// </summary>
internal sealed class FileOrdinals
{
    private readonly ConcurrentDictionary<string, int> _ordinals = new(StringComparer.Ordinal);
    private int _next;

    /// <summary>The file's ordinal, assigned on first use.</summary>
    public int Of(string fileId) => _ordinals.GetOrAdd(fileId, _ => Interlocked.Increment(ref _next));

    /// <summary>The ordinals of those files that have one (a file never loaded holds nothing to allow).</summary>
    public HashSet<int> Of(IReadOnlySet<string> fileIds)
    {
        var ordinals = new HashSet<int>();
        foreach (var fileId in fileIds)
        {
            if (_ordinals.TryGetValue(fileId, out var ordinal))
            {
                ordinals.Add(ordinal);
            }
        }

        return ordinals;
    }
}
