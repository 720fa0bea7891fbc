using System.Buffers;
using System.Runtime.InteropServices;

namespace Quiver.Core.Search.Indexes;

/// <summary>
/// Approximate cosine search with a USearch HNSW graph (f32 vectors, connectivity M, expansion ef).
/// Keys are chunk keys; <c>score = 1 − d_cos = cos(q, v)</c>. A filtered search applies the key predicate inside
/// the graph walk: non-matching nodes are traversed but never enter the result set, and the walk keeps expanding
/// until it holds <c>max(k, ef)</c> matches or runs out of reachable nodes, so a filter does not starve the top-k
/// the way a post-filter would (with fewer than ef matches it tends toward visiting the whole graph — for very
/// selective filters an exact scan over the allowed rows is cheaper).
/// </summary>
/// <remarks>
/// Concurrency: searches (and the other read-only calls: <see cref="Count"/>, <see cref="Contains"/>,
/// <see cref="Save"/>) run concurrently with each other; every mutation (add, remove, reserve) holds
/// <see cref="_graph"/> exclusively. USearch does not make a search consistent with a concurrent insert: its
/// base-layer search walks neighbor lists without node locks ("assuming read-only simultaneous access", index.hpp),
/// while an insert that refines an existing node's neighbors clears that list, recomputes distances, then refills it.
/// A search reaching such a node sees no neighbors and can come back with a single hit. A bulk
/// <see cref="AddRange"/> therefore inserts in batches of <see cref="AddBatch"/> rows (parallel within a batch), releasing
/// the lock between batches so searches are delayed by at most one batch rather than the whole load.
/// Each native add or search also borrows one of the index's thread contexts, from one pool of
/// <c>max(threads_add, threads_search)</c> entries; with the pool empty USearch reports no error but runs the call
/// without a context of its own. The pool is sized for <see cref="AddThreads"/> inserts or <see cref="SearchContexts"/>
/// searches (never both at once, see above; <see cref="_searchSlots"/> caps the searches), and it is re-established
/// after every <c>usearch_reserve</c>, which resets it to the machine's hardware thread count.
/// A view (<see cref="Load"/> with <c>view: true</c>) memory-maps the file read-only; writes to it fail.
/// </remarks>
internal sealed class HnswVectorIndex : IDisposable
{
    /// <summary>Graph degree M.</summary>
    public const int DefaultConnectivity = 16;

    /// <summary>ef during construction.</summary>
    public const int DefaultExpansionAdd = 128;

    /// <summary>ef during search; measured recall@10 ≥ 0.95 on clustered 384-d data at 100k (see tests).</summary>
    public const int DefaultExpansionSearch = 64;

    private static readonly USearchNative.FilterCallback FilterThunk = InvokeFilter;
    private static readonly IntPtr FilterThunkPointer = Marshal.GetFunctionPointerForDelegate(FilterThunk);

    private readonly USearchHandle _handle;
    // Shared: searches and other reads. Exclusive: every native mutation (add, remove, reserve).
    private readonly ReaderWriterLockSlim _graph = new(LockRecursionPolicy.NoRecursion);
    private readonly SemaphoreSlim _searchSlots;
    private int _expansionSearch;

    public HnswVectorIndex(int dimensions, int connectivity = DefaultConnectivity, int expansionAdd = DefaultExpansionAdd, int expansionSearch = DefaultExpansionSearch)
        : this(Create(dimensions, connectivity, expansionAdd, expansionSearch), dimensions, expansionSearch, readOnly: false)
    {
    }

    private HnswVectorIndex(USearchHandle handle, int dimensions, int expansionSearch, bool readOnly)
    {
        _handle = handle;
        Dimensions = dimensions;
        IsReadOnly = readOnly;
        _expansionSearch = expansionSearch;
        _searchSlots = new SemaphoreSlim(SearchContexts, SearchContexts);
    }

    public int Dimensions { get; }

    /// <summary>True for a memory-mapped view; it can be searched but not modified.</summary>
    public bool IsReadOnly { get; }

    /// <summary>Live vectors (removed keys excluded).</summary>
    public long Count
    {
        get
        {
            using var _ = ReadScope();
            var error = IntPtr.Zero;
            var n = USearchNative.usearch_size(Handle, ref error);
            USearchNative.Check(error, "size");
            return (long)n;
        }
    }

    /// <summary>
    /// Search width ef: larger is slower and more accurate. Applies to searches started after the change. It is not part
    /// of the saved file (USearch persists the graph, not ef): <see cref="Load"/> sets it from its own argument.
    /// </summary>
    public int ExpansionSearch
    {
        get => Volatile.Read(ref _expansionSearch);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            using var _ = ReadScope();
            SetExpansionSearch(Handle, value);
            Volatile.Write(ref _expansionSearch, value);
        }
    }

    // Rows inserted per exclusive section of a bulk AddRange: bounds how long searches wait behind a bulk load.
    private const int AddBatch = 1024;

    // Concurrent native searches allowed (the size of _searchSlots).
    private static int SearchContexts => Math.Max(4, Environment.ProcessorCount * 2);

    // Concurrent native inserts: the parallelism of a bulk AddRange (other writes are serialised).
    private static int AddThreads => Environment.ProcessorCount;

    private IntPtr Handle => _handle.DangerousGetHandle();

    /// <summary>
    /// Opens a saved index: loaded into memory, or (<paramref name="view"/>) memory-mapped read-only. The file holds the
    /// graph, vectors, metric and connectivity but not the search width, so it is set here: pass the ef the index was
    /// searched with to get the same results it gave before saving (same graph + same ef ⇒ identical results).
    /// </summary>
    public static HnswVectorIndex Load(string path, bool view = false, int expansionSearch = DefaultExpansionSearch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expansionSearch);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("No USearch index at this path.", path);
        }

        // usearch_metadata fills kind, quantization, dimensions and multi, and zeroes connectivity and both expansions
        // (the graph's own connectivity is restored by load/view; ef would fall back to the library default).
        var options = default(USearchNative.InitOptions);
        var error = IntPtr.Zero;
        USearchNative.usearch_metadata(path, ref options, ref error);
        USearchNative.Check(error, "metadata");
        options.ExpansionSearch = (nuint)expansionSearch;
        var handle = Init(ref options);
        try
        {
            // Set the thread contexts before viewing: load/view keep the limits they find, and changing them later
            // reallocates and would detach the view.
            var raw = handle.DangerousGetHandle();
            Configure(raw);
            error = IntPtr.Zero;
            if (view)
            {
                USearchNative.usearch_view(raw, path, ref error);
            }
            else
            {
                USearchNative.usearch_load(raw, path, ref error);
            }

            USearchNative.Check(error, view ? "view" : "load");
            SetExpansionSearch(raw, expansionSearch);
            return new HnswVectorIndex(handle, (int)options.Dimensions, expansionSearch, view);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Ensures room for <paramref name="capacity"/> vectors in total, avoiding repeated growth during bulk adds.</summary>
    public void Reserve(long capacity)
    {
        using var _ = WriteScope();
        EnsureWritable();
        ReserveLocked(capacity);
    }

    /// <summary>Adds or replaces the vector of <paramref name="key"/>.</summary>
    public void Add(long key, ReadOnlySpan<float> vector)
    {
        CheckLength(vector.Length);
        using var _ = WriteScope();
        EnsureWritable();
        GrowIfFull(1);
        AddLocked(key, vector);
    }

    /// <summary>
    /// Adds or replaces many vectors; <paramref name="vectors"/> is row-major, <c>keys.Length × Dimensions</c>, and
    /// the keys must be distinct. Rows go in batches of <see cref="AddBatch"/>, each inserted on up to
    /// <see cref="AddThreads"/> threads (the native graph supports concurrent inserts) while searches wait; searches
    /// run between batches. <paramref name="ct"/> is checked between batches: a cancelled call leaves the rows of the
    /// batches already inserted in the graph.
    /// </summary>
    public void AddRange(ReadOnlyMemory<long> keys, ReadOnlyMemory<float> vectors, CancellationToken ct = default)
    {
        CheckLength(vectors.Length, keys.Length);
        EnsureWritable();
        var dim = Dimensions;
        for (var batchStart = 0; batchStart < keys.Length; batchStart += AddBatch)
        {
            ct.ThrowIfCancellationRequested();
            var batchKeys = keys.Slice(batchStart, Math.Min(AddBatch, keys.Length - batchStart));
            var batchVectors = vectors.Slice(batchStart * dim, batchKeys.Length * dim);
            using var _ = WriteScope();
            GrowIfFull(batchKeys.Length);
            var threads = Math.Min(AddThreads, batchKeys.Length / 128);
            if (threads <= 1)
            {
                for (var i = 0; i < batchKeys.Length; i++)
                {
                    AddLocked(batchKeys.Span[i], batchVectors.Span.Slice(i * dim, dim));
                }

                continue;
            }

            var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
            Parallel.For(0, threads, options, part =>
            {
                var start = (int)((long)batchKeys.Length * part / threads);
                var end = (int)((long)batchKeys.Length * (part + 1) / threads);
                for (var i = start; i < end; i++)
                {
                    AddLocked(batchKeys.Span[i], batchVectors.Span.Slice(i * dim, dim));
                }
            });
        }
    }

    /// <summary>Removes a key; returns whether it was present.</summary>
    public bool Remove(long key)
    {
        using var _ = WriteScope();
        EnsureWritable();
        var error = IntPtr.Zero;
        var removed = USearchNative.usearch_remove(Handle, (ulong)key, ref error);
        USearchNative.Check(error, "remove");
        return removed > 0;
    }

    public bool Contains(long key)
    {
        using var _ = ReadScope();
        var error = IntPtr.Zero;
        var found = USearchNative.usearch_contains(Handle, (ulong)key, ref error);
        USearchNative.Check(error, "contains");
        return found;
    }

    /// <summary>
    /// Approximate top-k by cosine, best first, optionally only among keys passing <paramref name="allowedKey"/>
    /// (called on the searching thread, once per candidate visited; keep it cheap, e.g. a bit test on a key range).
    /// </summary>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k, Predicate<long>? allowedKey = null)
    {
        CheckLength(query.Length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var keys = ArrayPool<ulong>.Shared.Rent(k);
        var distances = ArrayPool<float>.Shared.Rent(k);
        _searchSlots.Wait();
        try
        {
            using var _ = ReadScope();
            nuint found;
            var error = IntPtr.Zero;
            if (allowedKey is null)
            {
                found = USearchNative.usearch_search(Handle, ref MemoryMarshal.GetReference(query), USearchNative.ScalarF32, (nuint)k, ref keys[0], ref distances[0], ref error);
            }
            else
            {
                var state = new FilterState(allowedKey);
                var gc = GCHandle.Alloc(state);
                try
                {
                    found = USearchNative.usearch_filtered_search(Handle, ref MemoryMarshal.GetReference(query), USearchNative.ScalarF32, (nuint)k, FilterThunkPointer, GCHandle.ToIntPtr(gc), ref keys[0], ref distances[0], ref error);
                }
                finally
                {
                    gc.Free();
                }

                if (state.Exception is not null)
                {
                    throw new InvalidOperationException("The search filter threw.", state.Exception);
                }
            }

            USearchNative.Check(error, "search");
            var hits = new SearchHit[(int)found];
            for (var i = 0; i < hits.Length; i++)
            {
                hits[i] = new SearchHit((long)keys[i], 1f - distances[i]);
            }

            return hits;
        }
        finally
        {
            _searchSlots.Release();
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<float>.Shared.Return(distances);
        }
    }

    /// <summary>Writes the index to <paramref name="path"/> (writers wait; searches continue).</summary>
    public void Save(string path)
    {
        using var _ = ReadScope();
        var error = IntPtr.Zero;
        USearchNative.usearch_save(Handle, path, ref error);
        USearchNative.Check(error, "save");
    }

    public void Dispose()
    {
        using (WriteScope())
        {
            _handle.Dispose();
        }

        _graph.Dispose();
        _searchSlots.Dispose();
    }

    private static USearchHandle Create(int dimensions, int connectivity, int expansionAdd, int expansionSearch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        ArgumentOutOfRangeException.ThrowIfLessThan(connectivity, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expansionAdd);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expansionSearch);
        var options = new USearchNative.InitOptions
        {
            MetricKind = USearchNative.MetricCos,
            Quantization = USearchNative.ScalarF32,
            Dimensions = (nuint)dimensions,
            Connectivity = (nuint)connectivity,
            ExpansionAdd = (nuint)expansionAdd,
            ExpansionSearch = (nuint)expansionSearch,
        };
        var handle = Init(ref options);
        Configure(handle.DangerousGetHandle());
        return handle;
    }

    private static USearchHandle Init(ref USearchNative.InitOptions options)
    {
        var error = IntPtr.Zero;
        var raw = USearchNative.usearch_init(ref options, ref error);
        var handle = new USearchHandle(raw);
        if (error != IntPtr.Zero || handle.IsInvalid)
        {
            handle.Dispose();
            USearchNative.Check(error, "init");
            throw new InvalidOperationException("USearch init returned no index.");
        }

        return handle;
    }

    /// <summary>
    /// Sizes the native context pool: USearch keeps one pool of <c>max(threads_add, threads_search)</c> contexts that
    /// adds and searches both draw from; adds and searches never overlap here, so the larger of the two suffices. Must
    /// run after <c>usearch_init</c> and after every <c>usearch_reserve</c> (which resets the pool to the hardware thread
    /// count), with no native add or search in flight.
    /// </summary>
    private static void Configure(IntPtr handle)
    {
        var error = IntPtr.Zero;
        USearchNative.usearch_change_threads_add(handle, (nuint)AddThreads, ref error);
        USearchNative.Check(error, "change_threads_add");
        error = IntPtr.Zero;
        USearchNative.usearch_change_threads_search(handle, (nuint)SearchContexts, ref error);
        USearchNative.Check(error, "change_threads_search");
    }

    private static void SetExpansionSearch(IntPtr handle, int expansion)
    {
        var error = IntPtr.Zero;
        USearchNative.usearch_change_expansion_search(handle, (nuint)expansion, ref error);
        USearchNative.Check(error, "change_expansion_search");
    }

    private static int InvokeFilter(ulong key, IntPtr statePointer)
    {
        var state = (FilterState)GCHandle.FromIntPtr(statePointer).Target!;
        if (state.Exception is not null)
        {
            return 0;
        }

        try
        {
            return state.Predicate((long)key) ? 1 : 0;
        }
        catch (Exception ex)
        {
            // Exceptions must not unwind through native frames; remember it and rethrow after the call.
            state.Exception = ex;
            return 0;
        }
    }

    private void AddLocked(long key, ReadOnlySpan<float> vector)
    {
        var error = IntPtr.Zero;
        var present = USearchNative.usearch_contains(Handle, (ulong)key, ref error);
        USearchNative.Check(error, "contains");
        if (present)
        {
            error = IntPtr.Zero;
            USearchNative.usearch_remove(Handle, (ulong)key, ref error);
            USearchNative.Check(error, "remove");
        }

        error = IntPtr.Zero;
        USearchNative.usearch_add(Handle, (ulong)key, ref MemoryMarshal.GetReference(vector), USearchNative.ScalarF32, ref error);
        USearchNative.Check(error, "add");
    }

    private void GrowIfFull(int adding)
    {
        var error = IntPtr.Zero;
        var size = USearchNative.usearch_size(Handle, ref error);
        USearchNative.Check(error, "size");
        error = IntPtr.Zero;
        var capacity = USearchNative.usearch_capacity(Handle, ref error);
        USearchNative.Check(error, "capacity");

        if (size + (nuint)adding > capacity)
        {
            ReserveLocked(Math.Max((long)(size + (nuint)adding), Math.Max(1024, (long)capacity * 2)));
        }
    }

    // Caller holds the write lock: usearch_reserve reallocates the node and context arrays, and it resets the context
    // pool to hardware_concurrency (index_limits_t(capacity)), so the pool is re-sized before any add/search resumes.
    private void ReserveLocked(long capacity)
    {
        var error = IntPtr.Zero;
        USearchNative.usearch_reserve(Handle, (nuint)capacity, ref error);
        USearchNative.Check(error, "reserve");
        Configure(Handle);
    }

    private void EnsureWritable()
    {
        if (IsReadOnly)
        {
            throw new InvalidOperationException("This HNSW index is a read-only memory-mapped view; load it to modify it.");
        }
    }

    private void CheckLength(int floats, int rows = 1)
    {
        if (floats != rows * Dimensions)
        {
            throw new ArgumentException($"Expected {rows} × {Dimensions} floats but got {floats}.");
        }
    }

    private ReadLock ReadScope()
    {
        _graph.EnterReadLock();
        return new ReadLock(_graph);
    }

    private WriteLock WriteScope()
    {
        _graph.EnterWriteLock();
        return new WriteLock(_graph);
    }

    private readonly struct ReadLock(ReaderWriterLockSlim rw) : IDisposable
    {
        public void Dispose() => rw.ExitReadLock();
    }

    private readonly struct WriteLock(ReaderWriterLockSlim rw) : IDisposable
    {
        public void Dispose() => rw.ExitWriteLock();
    }

    private sealed class FilterState(Predicate<long> predicate)
    {
        public Predicate<long> Predicate { get; } = predicate;

        public Exception? Exception { get; set; }
    }
}
