namespace Quiver.Core.Search.Indexes;

/// <summary>
/// One store's postings in memory, file by file, with the store's BM25 statistics (chunk count, token total,
/// each term's document frequency) kept exact as files are set and removed; answers the exhaustive BM25 top k
/// (<see cref="Bm25"/>: the same formula, constants and ties as the SQL of the PostgreSQL backend).
/// </summary>
/// <remarks>
/// A file is its chunks (key, analysed length) and its terms, sorted by a store-wide term id, each with the
/// (chunk, tf) pairs holding it, so a search visits each file once and finds a query term by binary search,
/// and a change to one file touches that file only. Searches run under a read lock; a refresh applies its
/// whole change under the write lock, so a search never sees statistics of one state and postings of another.
/// </remarks>
internal sealed class StoreLexicalIndex
{
    private readonly ReaderWriterLockSlim _lock = new();
    private readonly Dictionary<string, int> _termIds = new(StringComparer.Ordinal);
    private readonly List<long> _documentFrequencies = [];
    private readonly Dictionary<int, FilePostings> _files = [];
    private long _chunkCount;
    private long _tokenTotal;
    private long _residentBytes;

    /// <summary>What the postings take in memory, roughly (for the cache's budget).</summary>
    public long ResidentBytes => Interlocked.Read(ref _residentBytes);

    /// <summary>Chunks held (tests and diagnostics).</summary>
    public long ChunkCount
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _chunkCount;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Replaces and removes files in one step: <paramref name="removed"/> go, each of <paramref name="set"/> replaces that file's postings.</summary>
    public void Apply(IEnumerable<int> removed, IEnumerable<(int FileOrdinal, FileLexicalRows Rows)> set)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var ordinal in removed)
            {
                RemoveLocked(ordinal);
            }

            foreach (var (ordinal, rows) in set)
            {
                RemoveLocked(ordinal);
                AddLocked(ordinal, rows);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// The top <paramref name="k"/> chunks by BM25 over the distinct <paramref name="terms"/>, best first (ties by
    /// ascending key), only from files whose ordinal passes <paramref name="allowedFile"/> when given; statistics
    /// span the whole store, as in the database.
    /// </summary>
    public SearchHit[] Search(IReadOnlyList<string> terms, int k, Predicate<int>? allowedFile)
    {
        if (k <= 0)
        {
            return [];
        }

        _lock.EnterReadLock();
        try
        {
            if (_chunkCount == 0)
            {
                return [];
            }

            var averageLength = (double)_tokenTotal / _chunkCount;
            var query = new List<(int TermId, double Idf)>(terms.Count);
            foreach (var term in terms.Distinct(StringComparer.Ordinal))
            {
                if (_termIds.TryGetValue(term, out var id) && _documentFrequencies[id] > 0)
                {
                    query.Add((id, Bm25.Idf(_chunkCount, _documentFrequencies[id])));
                }
            }

            if (query.Count == 0)
            {
                return [];
            }

            // A min-heap of the best k so far: the root is the worst (lowest score, then highest key).
            var best = new PriorityQueue<SearchHit, (double Score, long NegativeKey)>(k + 1);
            var scores = Array.Empty<double>();
            foreach (var (ordinal, file) in _files)
            {
                if (allowedFile is not null && !allowedFile(ordinal))
                {
                    continue;
                }

                if (scores.Length < file.Keys.Length)
                {
                    scores = new double[Math.Max(file.Keys.Length, scores.Length * 2)];
                }

                var touched = false;
                foreach (var (termId, idf) in query)
                {
                    var at = Array.BinarySearch(file.TermIds, termId);
                    if (at < 0)
                    {
                        continue;
                    }

                    touched = true;
                    for (var p = file.TermStarts[at]; p < file.TermStarts[at + 1]; p++)
                    {
                        var chunk = file.PostingChunks[p];
                        scores[chunk] += Bm25.Term(idf, file.PostingFrequencies[p], file.Lengths[chunk], averageLength);
                    }
                }

                if (!touched)
                {
                    continue;
                }

                for (var chunk = 0; chunk < file.Keys.Length; chunk++)
                {
                    var score = scores[chunk];
                    if (score <= 0)
                    {
                        continue;
                    }

                    scores[chunk] = 0;
                    var priority = (score, -file.Keys[chunk]);
                    if (best.Count < k)
                    {
                        best.Enqueue(new SearchHit(file.Keys[chunk], (float)score), priority);
                    }
                    else if (best.TryPeek(out _, out var worst) && priority.CompareTo(worst) > 0)
                    {
                        best.EnqueueDequeue(new SearchHit(file.Keys[chunk], (float)score), priority);
                    }
                }
            }

            var hits = new SearchHit[best.Count];
            for (var i = hits.Length - 1; i >= 0; i--)
            {
                hits[i] = best.Dequeue();
            }

            return hits;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private void AddLocked(int ordinal, FileLexicalRows rows)
    {
        if (rows.Chunks.Count == 0)
        {
            return;
        }

        var slots = new Dictionary<long, int>(rows.Chunks.Count);
        var keys = new long[rows.Chunks.Count];
        var lengths = new int[rows.Chunks.Count];
        for (var i = 0; i < rows.Chunks.Count; i++)
        {
            (keys[i], lengths[i]) = rows.Chunks[i];
            slots[keys[i]] = i;
            _tokenTotal += lengths[i];
        }

        // Postings of chunks not among the file's chunks (a row read after the file changed) are left out; the
        // store's next version reloads the file.
        var postings = rows.Postings
            .Where(p => slots.ContainsKey(p.ChunkKey))
            .Select(p => (TermId: TermId(p.Term), Chunk: slots[p.ChunkKey], p.Frequency))
            .OrderBy(p => p.TermId).ThenBy(p => p.Chunk)
            .ToArray();
        var termIds = new List<int>();
        var starts = new List<int>();
        for (var i = 0; i < postings.Length; i++)
        {
            if (i == 0 || postings[i].TermId != postings[i - 1].TermId)
            {
                termIds.Add(postings[i].TermId);
                starts.Add(i);
            }

            _documentFrequencies[postings[i].TermId]++;
        }

        starts.Add(postings.Length);
        var file = new FilePostings(
            keys, lengths, [.. termIds], [.. starts], [.. postings.Select(p => p.Chunk)], [.. postings.Select(p => p.Frequency)]);
        _files[ordinal] = file;
        _chunkCount += keys.Length;
        Interlocked.Add(ref _residentBytes, file.Bytes);
    }

    private void RemoveLocked(int ordinal)
    {
        if (!_files.Remove(ordinal, out var file))
        {
            return;
        }

        _chunkCount -= file.Keys.Length;
        foreach (var length in file.Lengths)
        {
            _tokenTotal -= length;
        }

        for (var t = 0; t < file.TermIds.Length; t++)
        {
            _documentFrequencies[file.TermIds[t]] -= file.TermStarts[t + 1] - file.TermStarts[t];
        }

        Interlocked.Add(ref _residentBytes, -file.Bytes);
    }

    private int TermId(string term)
    {
        if (!_termIds.TryGetValue(term, out var id))
        {
            id = _termIds.Count;
            _termIds[term] = id;
            _documentFrequencies.Add(0);
            Interlocked.Add(ref _residentBytes, 64 + (term.Length * 2L)); // terms stay (with df 0) after their files go
        }

        return id;
    }

    /// <summary>One file's chunks and postings; chunk slots index <see cref="Keys"/> and <see cref="Lengths"/>.</summary>
    private sealed record FilePostings(long[] Keys, int[] Lengths, int[] TermIds, int[] TermStarts, int[] PostingChunks, int[] PostingFrequencies)
    {
        public long Bytes => (Keys.Length * 12L) + (TermIds.Length * 8L) + (PostingChunks.Length * 8L) + 64;
    }
}

/// <summary>A file's analysed chunks (key, length in tokens) and postings (chunk key, term, tf), as the database holds them.</summary>
internal sealed record FileLexicalRows(IReadOnlyList<(long Key, int Length)> Chunks, IReadOnlyList<(long ChunkKey, string Term, int Frequency)> Postings)
{
    /// <summary>A file without analysed chunks (gone, or not analysed yet).</summary>
    public static FileLexicalRows Empty { get; } = new([], []);
}
