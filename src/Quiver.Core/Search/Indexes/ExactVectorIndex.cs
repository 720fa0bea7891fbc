using System.Buffers;
using System.Numerics.Tensors;

namespace Quiver.Core.Search.Indexes;

/// <summary>
/// Exact (brute-force) cosine search over one store's chunk vectors held in memory.
/// Rows are unit-normalised on insert and the query at search time, so
/// <c>cos(q, v) = q·v / (|q| |v|) = dot(q̂, v̂)</c>, computed with <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>;
/// a zero vector scores 0 against everything. Each row carries a chunk key and a file ordinal; the file
/// predicate is applied during the scan, before the top-k cut, so a filter never starves the result:
/// with N allowed rows, min(N, k) hits come back.
/// </summary>
/// <remarks>
/// Concurrency: copy-on-write snapshots. Readers take the current <see cref="Snapshot"/> and never lock.
/// Writers serialise on a lock; an append writes past the published row count (invisible to existing
/// snapshots) and then publishes a new snapshot, so it costs O(rows added) unless the arrays must grow;
/// a removal or replacement builds compacted arrays (O(N)), leaving readers of the old ones undisturbed.
/// Rows of one file stay contiguous, which lets the scan evaluate the file predicate once per run of rows.
/// </remarks>
internal sealed class ExactVectorIndex
{
    /// <summary>
    /// Floats (rows × dimensions) below which a search stays on the calling thread: a task hop costs
    /// more than the scan. 16,384 rows of 384 dimensions, about 0.5 ms of scanning on one core.
    /// </summary>
    public const int DefaultParallelThresholdFloats = 16_384 * 384;

    private readonly Lock _writeLock = new();
    private readonly Dictionary<int, int> _rowsPerFile = [];
    private readonly int _maxDegreeOfParallelism;
    private readonly int _parallelThreshold;
    private volatile Snapshot _current;

    /// <param name="dimensions">Vector length; every row and query must have exactly this many floats.</param>
    /// <param name="maxDegreeOfParallelism">Threads one search may use on large stores (default min(2, cores)).</param>
    /// <param name="parallelThreshold">Row count from which a search is split across threads (default: <see cref="DefaultParallelThresholdFloats"/> / dimensions).</param>
    public ExactVectorIndex(int dimensions, int maxDegreeOfParallelism = 0, int? parallelThreshold = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        Dimensions = dimensions;
        _maxDegreeOfParallelism = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Math.Min(2, Environment.ProcessorCount);
        _parallelThreshold = Math.Max(2, parallelThreshold ?? DefaultParallelThresholdFloats / dimensions);
        _current = new Snapshot([], [], [], 0);
    }

    public int Dimensions { get; }

    /// <summary>Rows currently searchable.</summary>
    public int Count => _current.Count;

    /// <summary>
    /// Adds the rows of one file, replacing any rows that file already has (so re-indexing is idempotent).
    /// <paramref name="vectors"/> is row-major, <c>chunkKeys.Length × Dimensions</c> floats.
    /// </summary>
    public void AddFile(int fileOrdinal, ReadOnlySpan<long> chunkKeys, ReadOnlySpan<float> vectors)
    {
        var dim = Dimensions;
        if (vectors.Length != chunkKeys.Length * dim)
        {
            throw new ArgumentException($"Expected {chunkKeys.Length} × {dim} = {chunkKeys.Length * dim} floats but got {vectors.Length}.", nameof(vectors));
        }

        lock (_writeLock)
        {
            var old = _current;
            var existing = _rowsPerFile.GetValueOrDefault(fileOrdinal);
            var newCount = old.Count - existing + chunkKeys.Length;
            Snapshot target;
            int at;
            if (existing == 0 && newCount <= old.Capacity)
            {
                // Append in place: rows past old.Count are invisible to every published snapshot.
                target = old;
                at = old.Count;
            }
            else
            {
                var capacity = existing == 0 ? Math.Max(newCount, Math.Max(1024, old.Capacity * 2)) : Math.Max(newCount, old.Capacity);
                target = new Snapshot(new float[(long)capacity * dim], new long[capacity], new int[capacity], 0);
                at = CopyRowsExcept(old, target, existing > 0 ? fileOrdinal : null);
            }

            vectors.CopyTo(target.Vectors.AsSpan(at * dim, vectors.Length));
            chunkKeys.CopyTo(target.Keys.AsSpan(at, chunkKeys.Length));
            target.Files.AsSpan(at, chunkKeys.Length).Fill(fileOrdinal);
            for (var row = at; row < at + chunkKeys.Length; row++)
            {
                var v = target.Vectors.AsSpan(row * dim, dim);
                var norm = TensorPrimitives.Norm(v);
                if (norm > 0)
                {
                    TensorPrimitives.Divide(v, norm, v);
                }
            }

            if (chunkKeys.Length > 0)
            {
                _rowsPerFile[fileOrdinal] = chunkKeys.Length;
            }
            else
            {
                _rowsPerFile.Remove(fileOrdinal);
            }

            _current = new Snapshot(target.Vectors, target.Keys, target.Files, at + chunkKeys.Length);
        }
    }

    /// <summary>
    /// The rows searchable right now: keys and unit vectors (row-major), without copying. The views stay valid and
    /// unchanged after later writes, which publish new arrays or write only past these rows.
    /// </summary>
    public (ReadOnlyMemory<long> Keys, ReadOnlyMemory<float> Vectors) Rows()
    {
        var snapshot = _current;
        return (snapshot.Keys.AsMemory(0, snapshot.Count), snapshot.Vectors.AsMemory(0, snapshot.Count * Dimensions));
    }

    /// <summary>Removes every row of a file; returns whether it had any.</summary>
    public bool RemoveFile(int fileOrdinal)
    {
        lock (_writeLock)
        {
            if (!_rowsPerFile.Remove(fileOrdinal))
            {
                return false;
            }

            var old = _current;
            var capacity = old.Capacity;
            var target = new Snapshot(new float[(long)capacity * Dimensions], new long[capacity], new int[capacity], 0);
            var count = CopyRowsExcept(old, target, fileOrdinal);
            _current = new Snapshot(target.Vectors, target.Keys, target.Files, count);
            return true;
        }
    }

    /// <summary>
    /// Top-k rows by cosine similarity among rows whose file passes <paramref name="allowedFile"/> (null = all),
    /// sorted by score descending, ties by key ascending. The predicate may run on several threads at once.
    /// </summary>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k, Predicate<int>? allowedFile = null) =>
        SearchBatch(query, k, allowedFile)[0];

    /// <summary>
    /// <see cref="Search"/> for several queries (row-major, <c>q × Dimensions</c>) in one pass over the data:
    /// each row is loaded once and scored against every query while it is in cache.
    /// </summary>
    public SearchHit[][] SearchBatch(ReadOnlySpan<float> queries, int k, Predicate<int>? allowedFile = null)
    {
        var dim = Dimensions;
        if (queries.Length == 0 || queries.Length % dim != 0)
        {
            throw new ArgumentException($"Expected a positive multiple of {dim} floats but got {queries.Length}.", nameof(queries));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var queryCount = queries.Length / dim;
        var snapshot = _current;
        var buffer = ArrayPool<float>.Shared.Rent(queries.Length);
        try
        {
            queries.CopyTo(buffer);
            for (var q = 0; q < queryCount; q++)
            {
                var v = buffer.AsSpan(q * dim, dim);
                var norm = TensorPrimitives.Norm(v);
                if (norm > 0)
                {
                    TensorPrimitives.Divide(v, norm, v);
                }
            }

            var parts = snapshot.Count >= _parallelThreshold ? Math.Min(_maxDegreeOfParallelism, snapshot.Count / (_parallelThreshold / 2)) : 1;
            parts = Math.Max(1, parts);
            var heaps = new TopK[parts][];
            if (parts == 1)
            {
                heaps[0] = Scan(snapshot, buffer, queryCount, k, allowedFile, 0, snapshot.Count);
            }
            else
            {
                var tasks = new Task[parts - 1];
                for (var p = 1; p < parts; p++)
                {
                    var part = p;
                    var (start, end) = Range(snapshot.Count, parts, part);
                    tasks[p - 1] = Task.Run(() => heaps[part] = Scan(snapshot, buffer, queryCount, k, allowedFile, start, end));
                }

                var (s0, e0) = Range(snapshot.Count, parts, 0);
                heaps[0] = Scan(snapshot, buffer, queryCount, k, allowedFile, s0, e0);
                Task.WaitAll(tasks);
            }

            var results = new SearchHit[queryCount][];
            for (var q = 0; q < queryCount; q++)
            {
                var merged = new List<SearchHit>(k * parts);
                foreach (var part in heaps)
                {
                    part[q].AddTo(merged, snapshot.Keys);
                    part[q].Return();
                }

                merged.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Key.CompareTo(b.Key));
                results[q] = merged.Count > k ? [.. merged.GetRange(0, k)] : [.. merged];
            }

            return results;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private static (int Start, int End) Range(int count, int parts, int part) =>
        ((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));

    private TopK[] Scan(Snapshot snapshot, float[] queries, int queryCount, int k, Predicate<int>? allowedFile, int start, int end)
    {
        var dim = Dimensions;
        var heaps = new TopK[queryCount];
        for (var q = 0; q < queryCount; q++)
        {
            heaps[q] = new TopK(k);
        }

        var vectors = snapshot.Vectors;
        var keys = snapshot.Keys;
        var files = snapshot.Files;
        var lastFile = int.MinValue;
        var lastAllowed = true;
        for (var row = start; row < end; row++)
        {
            if (allowedFile is not null)
            {
                // Rows of a file are contiguous, so the predicate runs about once per file, not per row.
                var file = files[row];
                if (file != lastFile)
                {
                    lastFile = file;
                    lastAllowed = allowedFile(file);
                }

                if (!lastAllowed)
                {
                    continue;
                }
            }

            var v = new ReadOnlySpan<float>(vectors, row * dim, dim);
            for (var q = 0; q < queryCount; q++)
            {
                var score = TensorPrimitives.Dot(v, new ReadOnlySpan<float>(queries, q * dim, dim));
                heaps[q].Offer(score, row, keys);
            }
        }

        return heaps;
    }

    private static int CopyRowsExcept(Snapshot from, Snapshot to, int? skipFile)
    {
        var dim = from.Count == 0 ? 0 : from.Vectors.Length / from.Capacity;
        var written = 0;
        var row = 0;
        while (row < from.Count)
        {
            // Copy maximal runs of kept rows with one block copy each.
            var runStart = row;
            while (row < from.Count && from.Files[row] != skipFile)
            {
                row++;
            }

            var run = row - runStart;
            if (run > 0)
            {
                Array.Copy(from.Vectors, (long)runStart * dim, to.Vectors, (long)written * dim, (long)run * dim);
                Array.Copy(from.Keys, runStart, to.Keys, written, run);
                Array.Copy(from.Files, runStart, to.Files, written, run);
                written += run;
            }

            while (row < from.Count && from.Files[row] == skipFile)
            {
                row++;
            }
        }

        return written;
    }

    /// <summary>An immutable view: rows [0, Count) of the arrays never change while the view is published.</summary>
    private sealed class Snapshot(float[] vectors, long[] keys, int[] files, int count)
    {
        public float[] Vectors { get; } = vectors;

        public long[] Keys { get; } = keys;

        public int[] Files { get; } = files;

        public int Count { get; } = count;

        public int Capacity => Keys.Length;
    }

    /// <summary>
    /// Size-k min-heap of (score, row) with pooled arrays; the root is the worst kept hit, where "worse" means
    /// a lower score or, on equal scores, a larger key (so ties resolve like the final sort).
    /// </summary>
    private struct TopK(int k)
    {
        private readonly float[] _scores = ArrayPool<float>.Shared.Rent(k);
        private readonly int[] _rows = ArrayPool<int>.Shared.Rent(k);
        private int _count;

        public void Offer(float score, int row, long[] keys)
        {
            if (_count < k)
            {
                var i = _count++;
                _scores[i] = score;
                _rows[i] = row;
                SiftUp(i, keys);
            }
            else if (score > _scores[0] || (score == _scores[0] && keys[row] < keys[_rows[0]]))
            {
                _scores[0] = score;
                _rows[0] = row;
                SiftDown(0, keys);
            }
        }

        public readonly void AddTo(List<SearchHit> hits, long[] keys)
        {
            for (var i = 0; i < _count; i++)
            {
                hits.Add(new SearchHit(keys[_rows[i]], _scores[i]));
            }
        }

        public readonly void Return()
        {
            ArrayPool<float>.Shared.Return(_scores);
            ArrayPool<int>.Shared.Return(_rows);
        }

        private readonly bool Worse(int a, int b, long[] keys) =>
            _scores[a] < _scores[b] || (_scores[a] == _scores[b] && keys[_rows[a]] > keys[_rows[b]]);

        private readonly void SiftUp(int i, long[] keys)
        {
            while (i > 0)
            {
                var parent = (i - 1) / 2;
                if (!Worse(i, parent, keys))
                {
                    return;
                }

                Swap(i, parent);
                i = parent;
            }
        }

        private readonly void SiftDown(int i, long[] keys)
        {
            while (true)
            {
                var left = (2 * i) + 1;
                if (left >= _count)
                {
                    return;
                }

                var worst = left + 1 < _count && Worse(left + 1, left, keys) ? left + 1 : left;
                if (!Worse(worst, i, keys))
                {
                    return;
                }

                Swap(i, worst);
                i = worst;
            }
        }

        private readonly void Swap(int a, int b)
        {
            (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
            (_rows[a], _rows[b]) = (_rows[b], _rows[a]);
        }
    }
}
