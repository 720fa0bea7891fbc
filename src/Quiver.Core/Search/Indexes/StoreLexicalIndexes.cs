using System.Collections.Concurrent;

namespace Quiver.Core.Search.Indexes;

/// <summary>
/// The in-memory postings of small stores (<see cref="StoreLexicalIndex"/>), for a backend whose lexical
/// statistics live in the database (PostgreSQL): loaded on a store's first lexical search, and on later ones
/// brought up to date with the store's chunk version — only the files whose analysed chunk set changed (by
/// count and highest chunk id) are read again. Past <c>maxResidentBytes</c> the least recently searched stores
/// are dropped and reloaded by their next search.
/// </summary>
/// <remarks>Owns the cache only; the rows come through <see cref="ILexicalRowReader"/>.</remarks>
internal sealed class StoreLexicalIndexes(TimeProvider time, long maxResidentBytes)
{
    /// <summary>More changed files than this are read in one pass over the store's rows instead of file by file.</summary>
    private const int WholeStoreReloadFiles = 256;

    private readonly ConcurrentDictionary<string, Entry> _stores = new(StringComparer.Ordinal);
    private long _loads;

    /// <summary>Refreshes that read rows (a first load, or a change seen); tests check a search was served from memory.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>
    /// BM25 top <paramref name="k"/> for the query's index <paramref name="terms"/>, from the store's postings as of
    /// at least <paramref name="version"/> (the store's chunk version, read by the caller before this call), only
    /// from <paramref name="allowedFiles"/> when given.
    /// </summary>
    public async Task<SearchHit[]> SearchAsync(
        ILexicalRowReader reader, string storeId, long version, IReadOnlyList<string> terms, int k, IReadOnlySet<string>? allowedFiles, CancellationToken ct)
    {
        var entry = _stores.GetOrAdd(storeId, _ => new Entry());
        entry.LastUsed = time.GetTimestamp();
        // Versions only grow: an entry at or past the one read is current enough.
        if (entry.Version < version)
        {
            await entry.RefreshLock.WaitAsync(ct);
            try
            {
                if (entry.Version < version)
                {
                    await RefreshAsync(reader, storeId, entry, ct);
                    entry.Version = version;
                    Interlocked.Increment(ref _loads);
                    EvictBeyondBudget(entry);
                }
            }
            finally
            {
                entry.RefreshLock.Release();
            }
        }

        Predicate<int>? allowed = null;
        if (allowedFiles is not null)
        {
            var ordinals = entry.OrdinalsOf(allowedFiles);
            allowed = ordinals.Contains;
        }

        return entry.Index.Search(terms, k, allowed);
    }

    /// <summary>Forgets a store (deleted).</summary>
    public void Remove(string storeId) => _stores.TryRemove(storeId, out _);

    private static async Task RefreshAsync(ILexicalRowReader reader, string storeId, Entry entry, CancellationToken ct)
    {
        var current = await reader.ReadLexicalSignaturesAsync(storeId, ct);
        var removed = entry.Signatures.Keys.Where(fileId => !current.ContainsKey(fileId)).ToList();
        var changed = current.Where(f => !entry.Signatures.TryGetValue(f.Key, out var known) || known != f.Value).Select(f => f.Key).ToList();
        if (removed.Count == 0 && changed.Count == 0)
        {
            return;
        }

        var rows = changed.Count == 0
            ? new Dictionary<string, FileLexicalRows>()
            : await reader.ReadFileLexicalRowsAsync(storeId, changed.Count > WholeStoreReloadFiles ? null : changed, ct);
        entry.Index.Apply(
            removed.Select(entry.OrdinalOf),
            changed.Select(fileId => (entry.OrdinalOf(fileId), rows.GetValueOrDefault(fileId) ?? FileLexicalRows.Empty)));
        foreach (var fileId in removed)
        {
            entry.Signatures.Remove(fileId);
        }

        foreach (var fileId in changed)
        {
            entry.Signatures[fileId] = current[fileId];
        }
    }

    /// <summary>Drops the least recently searched stores (never <paramref name="keep"/>) until the postings held fit the budget.</summary>
    private void EvictBeyondBudget(Entry keep)
    {
        var resident = _stores.ToArray();
        var total = resident.Sum(e => e.Value.Index.ResidentBytes);
        foreach (var (storeId, entry) in resident.Where(e => e.Value != keep).OrderBy(e => e.Value.LastUsed))
        {
            if (total <= maxResidentBytes)
            {
                break;
            }

            if (_stores.TryRemove(new KeyValuePair<string, Entry>(storeId, entry)))
            {
                total -= entry.Index.ResidentBytes;
            }
        }
    }

    /// <summary>One store's postings and the bookkeeping to keep them current.</summary>
    private sealed class Entry
    {
        private readonly FileOrdinals _files = new();
        private long _version = -1;
        private long _lastUsed;

        public StoreLexicalIndex Index { get; } = new();

        public SemaphoreSlim RefreshLock { get; } = new(1, 1);

        /// <summary>Per file: analysed chunk count and highest chunk id when loaded (under the refresh lock).</summary>
        public Dictionary<string, FileChunkSignature> Signatures { get; } = new(StringComparer.Ordinal);

        public long Version
        {
            get => Volatile.Read(ref _version);
            set => Volatile.Write(ref _version, value);
        }

        public long LastUsed
        {
            get => Volatile.Read(ref _lastUsed);
            set => Volatile.Write(ref _lastUsed, value);
        }

        public int OrdinalOf(string fileId) => _files.Of(fileId);

        public HashSet<int> OrdinalsOf(IReadOnlySet<string> fileIds) => _files.Of(fileIds);
    }
}

/// <summary>The reads <see cref="StoreLexicalIndexes"/> needs from one open database session.</summary>
internal interface ILexicalRowReader
{
    /// <summary>Each file of the store with analysed chunks: their count and highest chunk id.</summary>
    Task<IReadOnlyDictionary<string, FileChunkSignature>> ReadLexicalSignaturesAsync(string storeId, CancellationToken ct);

    /// <summary>The analysed chunks and postings of these files of the store (null: every file), by file.</summary>
    Task<IReadOnlyDictionary<string, FileLexicalRows>> ReadFileLexicalRowsAsync(string storeId, IReadOnlyList<string>? fileIds, CancellationToken ct);
}
