namespace Quiver.Core.Search;

/// <summary>
/// Pure score fusion for hybrid and multi-query search. Every method returns hits sorted by score
/// descending (ties by key ascending, so output is deterministic) with every score in [0, 1].
/// <list type="bullet">
/// <item><b>Reciprocal rank fusion</b>: <c>rrf(d) = Σ_l w_l / (k + rank_l(d))</c>, rank 1-based, a list
/// without d contributes 0; reported as <c>rrf(d) / Σ_l w_l / (k + 1)</c>, i.e. divided by its maximum
/// (d ranked first everywhere), so 1 means "top of every list".</item>
/// <item><b>Weighted</b>: <c>s(d) = (w_e · clamp(cos(d), 0, 1) + w_t · bm25(d) / max_q bm25) / (w_e + w_t)</c>,
/// where bm25 is non-negative and higher-better (negate SQLite's <c>bm25()</c>), normalised by the best
/// lexical score of this query, and a list without d contributes 0 for its part.</item>
/// <item><b>Multi-query merge</b> (array <c>query</c>): <c>s(d) = max_q s_q(d)</c> (CombMAX); the scale of a
/// single query is kept, so <c>score_threshold</c> means the same for one or several queries.</item>
/// </list>
/// Within a list only the first occurrence of a key counts (its best rank).
/// </summary>
internal static class ScoreFusion
{
    /// <summary>The usual RRF constant k; larger k flattens the advantage of top ranks.</summary>
    public const int DefaultRrfK = 60;

    /// <summary>Reciprocal rank fusion of <paramref name="lists"/>, normalised to [0, 1]; see the type summary.</summary>
    public static SearchHit[] ReciprocalRank(IReadOnlyList<RankedList> lists, int limit, int k = DefaultRrfK)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var maxPossible = 0.0;
        foreach (var list in lists)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(list.Weight);
            maxPossible += list.Weight / (k + 1.0);
        }

        var sums = new Dictionary<long, double>();
        var seen = new HashSet<long>();
        foreach (var list in lists)
        {
            seen.Clear();
            for (var i = 0; i < list.Hits.Count; i++)
            {
                var key = list.Hits[i].Key;
                if (seen.Add(key))
                {
                    sums[key] = sums.GetValueOrDefault(key) + (list.Weight / (k + i + 1.0));
                }
            }
        }

        return TopByScore(sums, maxPossible, limit);
    }

    /// <summary>Weighted combination of a dense and a lexical list, normalised to [0, 1]; see the type summary.</summary>
    public static SearchHit[] Weighted(IReadOnlyList<SearchHit> dense, IReadOnlyList<SearchHit> lexical, HybridWeights weights, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(weights.Embedding);
        ArgumentOutOfRangeException.ThrowIfNegative(weights.Text);
        var total = weights.Embedding + weights.Text;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total);

        var sums = new Dictionary<long, double>(dense.Count + lexical.Count);
        foreach (var hit in dense)
        {
            sums.TryAdd(hit.Key, weights.Embedding * Math.Clamp(hit.Score, 0.0, 1.0));
        }

        var maxLexical = 0.0;
        foreach (var hit in lexical)
        {
            maxLexical = Math.Max(maxLexical, hit.Score);
        }

        if (maxLexical > 0)
        {
            var seen = new HashSet<long>();
            foreach (var hit in lexical)
            {
                if (seen.Add(hit.Key))
                {
                    var part = weights.Text * Math.Max(0.0, hit.Score) / maxLexical;
                    sums[hit.Key] = sums.GetValueOrDefault(hit.Key) + part;
                }
            }
        }
        else
        {
            // No lexical evidence at all: lexical-only keys still appear, with a zero lexical part.
            foreach (var hit in lexical)
            {
                sums.TryAdd(hit.Key, 0.0);
            }
        }

        return TopByScore(sums, total, limit);
    }

    /// <summary>Merges per-query results by the best score of each key (CombMAX); scores must already be in [0, 1].</summary>
    public static SearchHit[] MergeQueries(IReadOnlyList<IReadOnlyList<SearchHit>> perQuery, int limit)
    {
        if (perQuery.Count == 1 && perQuery[0].Count <= limit)
        {
            return [.. perQuery[0]];
        }

        var best = new Dictionary<long, double>();
        foreach (var hits in perQuery)
        {
            foreach (var hit in hits)
            {
                best[hit.Key] = best.TryGetValue(hit.Key, out var s) ? Math.Max(s, hit.Score) : hit.Score;
            }
        }

        return TopByScore(best, 1.0, limit);
    }

    private static SearchHit[] TopByScore(Dictionary<long, double> sums, double divisor, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (sums.Count == 0 || limit == 0)
        {
            return [];
        }

        // Sort on the double sums, then convert: converting first could merge distinct sums into one float.
        var all = new KeyValuePair<long, double>[sums.Count];
        ((ICollection<KeyValuePair<long, double>>)sums).CopyTo(all, 0);
        Array.Sort(all, static (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : a.Key.CompareTo(b.Key));

        var result = new SearchHit[Math.Min(limit, all.Length)];
        for (var i = 0; i < result.Length; i++)
        {
            var score = divisor > 0 ? Math.Clamp(all[i].Value / divisor, 0.0, 1.0) : 0.0;
            result[i] = new SearchHit(all[i].Key, (float)score);
        }

        return result;
    }
}
