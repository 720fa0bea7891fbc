using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Quiver.Core.Search.Indexes;

/// <summary>
/// The HNSW graph of one large store, kept behind the store's exact index (the source of truth). It starts from
/// the exact rows — or from the graph an earlier run saved, reconciled with those rows — and then applies the same
/// changes, in order, on its own background task. <see cref="AppliedVersion"/> is the store version the graph
/// reflects; a search uses it only when that equals the exact index's version, so what a search returns never
/// depends on whether the background work has caught up, only how fast it comes back.
/// </summary>
/// <remarks>
/// Persistence: two files in the index directory beside the database, written to temporary names and renamed:
/// <c>&lt;store&gt;.hnsw</c> (the USearch graph) and <c>&lt;store&gt;.hnsw.keys</c> (the keys it holds). On load the
/// graph must have exactly the listed keys (count and membership), otherwise it is rebuilt; then listed keys the
/// store no longer has are removed and the store's other rows added. So a graph saved before a crash, or before
/// chunks changed while the server was down, is brought up to date rather than trusted or thrown away.
/// Saving happens at most every <c>saveInterval</c> while changes arrive, once the store goes quiet, and on dispose.
/// Any failure (including a missing native library) leaves the graph unused and the store on exact search.
/// </remarks>
internal sealed partial class HnswStoreGraph : IAsyncDisposable
{
    private const uint KeysMagic = 0x4B48_5651; // "QVHK"
    private const int KeysFormat = 1;
    private const int KeysHeaderBytes = 4 + 4 + 4 + 8;

    private readonly Channel<Change> _changes = Channel.CreateUnbounded<Change>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string _storeId;
    private readonly int _dimensions;
    private readonly string _graphPath;
    private readonly string _keysPath;
    private readonly TimeSpan _saveInterval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private bool _loadSaved;

    // The keys the graph holds, tracked from the applied changes (the native binding cannot list them); only the
    // background task touches it.
    private readonly HashSet<long> _keys = [];
    private readonly ReaderWriterLockSlim _life = new(LockRecursionPolicy.NoRecursion);

    // Cancelled on dispose: a build or a large change in progress stops between insert batches instead of holding
    // up shutdown (or a replacement) for up to a full build; the graph is then not saved, and the files of the
    // last completed save are reconciled at the next start.
    private readonly CancellationTokenSource _stop = new();
    private HnswVectorIndex? _graph;
    private bool _closed;
    private long _appliedVersion = -1;
    private long _removed;
    private long _builtWith;
    private bool _failed;

    private HnswStoreGraph(string storeId, int dimensions, string directory, TimeSpan saveInterval, TimeProvider time, ILogger logger, Change initial, bool loadSaved)
    {
        _loadSaved = loadSaved;
        _storeId = storeId;
        _dimensions = dimensions;
        _graphPath = GraphPath(directory, storeId);
        _keysPath = _graphPath + ".keys";
        _saveInterval = saveInterval;
        _time = time;
        _logger = logger;
        _changes.Writer.TryWrite(initial);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Whether the graph came from the saved files (reconciled) rather than being built from the rows.</summary>
    public bool LoadedFromSavedFile { get; private set; }

    /// <summary>
    /// True once a tenth of the vectors the graph was built with (at least <see cref="RebuildMinRemoved"/>) have been
    /// removed: removed nodes leave holes in the graph's links, and measured on 2,000 clustered vectors a quarter
    /// removed already made several percent of the remaining rows unreachable as their own nearest neighbour.
    /// The owner then replaces the graph with a fresh build.
    /// </summary>
    public bool NeedsRebuild => Volatile.Read(ref _removed) >= RebuildThreshold(Volatile.Read(ref _builtWith));

    /// <summary>Fewest removals that ever trigger a rebuild (small graphs tolerate a few).</summary>
    public const int RebuildMinRemoved = 100;

    private static long RebuildThreshold(long builtWith) => Math.Max(RebuildMinRemoved, builtWith / 10);

    /// <summary>The store version the graph reflects; -1 until the first build or load has finished.</summary>
    public long AppliedVersion => Volatile.Read(ref _appliedVersion);

    /// <summary>
    /// Starts a graph for a store whose exact rows at <paramref name="version"/> are <paramref name="keys"/> and
    /// <paramref name="vectors"/> (views that stay unchanged, see <see cref="ExactVectorIndex.Rows"/>). With
    /// <paramref name="loadSaved"/> false (a rebuild) the saved files are not read, only overwritten later.
    /// </summary>
    public static HnswStoreGraph Start(
        string storeId, int dimensions, string directory, ReadOnlyMemory<long> keys, ReadOnlyMemory<float> vectors, long version,
        TimeSpan saveInterval, TimeProvider time, ILogger logger, bool loadSaved = true) =>
        new(storeId, dimensions, directory, saveInterval, time, logger, new Change(version, [], keys, vectors, Initial: true), loadSaved);

    /// <summary>The graph file of a store (its key list is this path plus <c>.keys</c>).</summary>
    public static string GraphPath(string directory, string storeId) => Path.Combine(directory, storeId + ".hnsw");

    /// <summary>Queues the store's next change: the keys removed and the rows added in reaching <paramref name="version"/>.</summary>
    public void Enqueue(long version, IReadOnlyCollection<long> removed, long[] addedKeys, float[] addedVectors) =>
        _changes.Writer.TryWrite(new Change(version, removed, addedKeys, addedVectors, Initial: false));

    /// <summary>
    /// Approximate top-k (best first), only among keys passing <paramref name="allowedKey"/> when given; null when
    /// the graph is not ready or already disposed (a search that raced a rebuild or a store deletion), so the caller
    /// searches exactly instead.
    /// </summary>
    public SearchHit[]? Search(ReadOnlySpan<float> query, int k, Predicate<long>? allowedKey)
    {
        // The read lock keeps the native graph alive for the search; dispose takes the write lock to close it.
        _life.EnterReadLock();
        try
        {
            return _closed || _graph is not { } graph ? null : graph.Search(query, k, allowedKey);
        }
        finally
        {
            _life.ExitReadLock();
        }
    }

    /// <summary>Stops the background work, saves unsaved changes, and frees the graph once no search uses it.</summary>
    public async ValueTask DisposeAsync()
    {
        _changes.Writer.TryComplete();
        await _stop.CancelAsync();
        await _loop;
        _life.EnterWriteLock();
        try
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _graph?.Dispose();
        }
        finally
        {
            _life.ExitWriteLock();
        }
    }

    /// <summary>Stops the background work without saving (a replacement graph will write the files).</summary>
    public async Task AbandonAsync()
    {
        _failed = true;
        await DisposeAsync();
    }

    /// <summary>Stops the background work and removes the saved files (the store is gone).</summary>
    public async Task DeleteAsync()
    {
        await AbandonAsync();
        TryDelete(_graphPath);
        TryDelete(_keysPath);
    }

    private async Task RunAsync()
    {
        var dirty = false;
        var lastSave = _time.GetTimestamp();
        var reader = _changes.Reader;
        while (true)
        {
            bool more;
            if (dirty && !_failed)
            {
                // Changes are waiting to be saved: save when the store goes quiet for a while.
                using var quiet = new CancellationTokenSource(_saveInterval, _time);
                try
                {
                    more = await reader.WaitToReadAsync(quiet.Token);
                }
                catch (OperationCanceledException)
                {
                    dirty = !TrySave();
                    lastSave = _time.GetTimestamp();
                    continue;
                }
            }
            else
            {
                more = await reader.WaitToReadAsync();
            }

            if (!more)
            {
                break;
            }

            while (!_failed && reader.TryRead(out var change))
            {
                try
                {
                    Apply(change);
                    Volatile.Write(ref _appliedVersion, change.Version);
                    dirty = true;
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    _failed = true; // disposed mid-change: the graph is partial, so it is neither used nor saved
                    Volatile.Write(ref _appliedVersion, -1);
                }
                catch (Exception e)
                {
                    _failed = true;
                    Volatile.Write(ref _appliedVersion, -1);
                    LogFailed(_logger, e, _storeId);
                }
            }

            if (_failed)
            {
                // Drain and drop: the store stays on exact search.
                while (reader.TryRead(out _))
                {
                }

                continue;
            }

            if (dirty && _time.GetElapsedTime(lastSave) >= _saveInterval)
            {
                dirty = !TrySave();
                lastSave = _time.GetTimestamp();
            }
        }

        if (dirty && !_failed)
        {
            TrySave();
        }
    }

    private void Apply(Change change)
    {
        if (change.Initial)
        {
            var started = _time.GetTimestamp();
            var (graph, loaded) = LoadOrCreate(change.AddedKeys, change.AddedVectors);
            _graph = graph;
            LoadedFromSavedFile = loaded;
            Volatile.Write(ref _builtWith, change.AddedKeys.Length);
            _keys.Clear();
            foreach (var key in change.AddedKeys.Span)
            {
                _keys.Add(key);
            }

            if (loaded)
            {
                LogLoaded(_logger, _storeId, graph.Count, _time.GetElapsedTime(started).TotalMilliseconds);
            }
            else
            {
                LogBuilt(_logger, _storeId, graph.Count, _time.GetElapsedTime(started).TotalMilliseconds);
            }

            return;
        }

        var target = _graph!;
        foreach (var key in change.RemovedKeys)
        {
            if (target.Remove(key))
            {
                Interlocked.Increment(ref _removed);
            }

            _keys.Remove(key);
        }

        if (change.AddedKeys.Length > 0)
        {
            target.AddRange(change.AddedKeys, change.AddedVectors, _stop.Token);
            foreach (var key in change.AddedKeys.Span)
            {
                _keys.Add(key);
            }
        }
    }

    /// <summary>The saved graph brought up to date with the rows, or (no usable file) a new graph of the rows.</summary>
    private (HnswVectorIndex Graph, bool Loaded) LoadOrCreate(ReadOnlyMemory<long> keys, ReadOnlyMemory<float> vectors)
    {
        var saved = _loadSaved ? TryLoad() : null;
        if (saved is null)
        {
            var graph = new HnswVectorIndex(_dimensions);
            try
            {
                graph.Reserve(keys.Length);
                graph.AddRange(keys, vectors, _stop.Token);
                return (graph, false);
            }
            catch
            {
                graph.Dispose();
                throw;
            }
        }

        var (loaded, savedKeys) = saved.Value;
        try
        {
            var current = new HashSet<long>(keys.Length);
            foreach (var key in keys.Span)
            {
                current.Add(key);
            }

            // As many removals as would trigger a rebuild at run time: build fresh instead of reconciling.
            var stale = savedKeys.Where(key => !current.Contains(key)).ToList();
            if (stale.Count >= RebuildThreshold(savedKeys.Length))
            {
                LogStale(_logger, _storeId);
                loaded.Dispose();
                _loadSaved = false;
                return LoadOrCreate(keys, vectors);
            }

            foreach (var key in stale)
            {
                loaded.Remove(key);
            }

            Interlocked.Add(ref _removed, stale.Count); // its tombstones count toward the next rebuild

            var missing = new List<int>();
            var savedSet = new HashSet<long>(savedKeys);
            for (var row = 0; row < keys.Length; row++)
            {
                if (!savedSet.Contains(keys.Span[row]))
                {
                    missing.Add(row);
                }
            }

            if (missing.Count > 0)
            {
                var addKeys = new long[missing.Count];
                var addVectors = new float[missing.Count * _dimensions];
                for (var i = 0; i < missing.Count; i++)
                {
                    addKeys[i] = keys.Span[missing[i]];
                    vectors.Span.Slice(missing[i] * _dimensions, _dimensions).CopyTo(addVectors.AsSpan(i * _dimensions));
                }

                loaded.AddRange(addKeys, addVectors, _stop.Token);
            }

            return (loaded, true);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>The saved graph and its key list, or null when missing, unreadable or not matching each other.</summary>
    private (HnswVectorIndex Graph, long[] Keys)? TryLoad()
    {
        if (!File.Exists(_graphPath) || !File.Exists(_keysPath))
        {
            return null;
        }

        HnswVectorIndex? graph = null;
        try
        {
            var keys = ReadKeys(_keysPath, _dimensions);
            graph = HnswVectorIndex.Load(_graphPath);
            if (keys is null || graph.Dimensions != _dimensions || graph.Count != keys.Length || !keys.All(graph.Contains))
            {
                LogStale(_logger, _storeId);
                graph.Dispose();
                return null;
            }

            return (graph, keys);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            LogStale(_logger, _storeId);
            graph?.Dispose();
            return null;
        }
    }

    private bool TrySave()
    {
        if (_graph is null)
        {
            return true;
        }

        try
        {
            var started = _time.GetTimestamp();
            Directory.CreateDirectory(Path.GetDirectoryName(_graphPath)!);
            long[] keys = [.. _keys];
            _graph.Save(_graphPath + ".tmp");
            WriteKeys(_keysPath + ".tmp", _dimensions, keys);
            File.Move(_keysPath + ".tmp", _keysPath, overwrite: true);
            File.Move(_graphPath + ".tmp", _graphPath, overwrite: true);
            LogSaved(_logger, _storeId, keys.Length, _time.GetElapsedTime(started).TotalMilliseconds);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            LogSaveFailed(_logger, e, _storeId);
            return false;
        }
    }

    private static long[]? ReadKeys(string path, int dimensions)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < KeysHeaderBytes
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != KeysMagic
            || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)) != KeysFormat
            || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)) != dimensions)
        {
            return null;
        }

        var count = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(12));
        if (count < 0 || bytes.Length != KeysHeaderBytes + (count * sizeof(long)))
        {
            return null;
        }

        var keys = MemoryMarshal.Cast<byte, long>(bytes.AsSpan(KeysHeaderBytes)).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(keys, keys);
        }

        return keys;
    }

    private static void WriteKeys(string path, int dimensions, long[] keys)
    {
        var bytes = new byte[KeysHeaderBytes + (keys.Length * sizeof(long))];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, KeysMagic);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), KeysFormat);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), dimensions);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(12), keys.Length);
        var body = MemoryMarshal.Cast<byte, long>(bytes.AsSpan(KeysHeaderBytes));
        keys.CopyTo(body);
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(body, body);
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover file is pruned at the next start (its store no longer exists).
        }
    }

    /// <summary>One step of the store: keys removed and rows added (row-major vectors) in reaching <see cref="Version"/>.</summary>
    private sealed record Change(long Version, IReadOnlyCollection<long> RemovedKeys, ReadOnlyMemory<long> AddedKeys, ReadOnlyMemory<float> AddedVectors, bool Initial);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Built the HNSW graph of {StoreId}: {Count} vectors in {Ms:F0} ms")]
    private static partial void LogBuilt(ILogger logger, string storeId, long count, double ms);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Loaded the saved HNSW graph of {StoreId}: {Count} vectors in {Ms:F0} ms")]
    private static partial void LogLoaded(ILogger logger, string storeId, long count, double ms);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "The saved HNSW graph of {StoreId} does not match its key list; rebuilding it")]
    private static partial void LogStale(ILogger logger, string storeId);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Debug, Message = "Saved the HNSW graph of {StoreId}: {Count} vectors in {Ms:F0} ms")]
    private static partial void LogSaved(ILogger logger, string storeId, int count, double ms);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "Could not save the HNSW graph of {StoreId}; it will be saved later or rebuilt at the next start")]
    private static partial void LogSaveFailed(ILogger logger, Exception exception, string storeId);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Error, Message = "The HNSW graph of {StoreId} failed; the store stays on exact search")]
    private static partial void LogFailed(ILogger logger, Exception exception, string storeId);
}
