using Quiver.Core.Search;

namespace Quiver.Tests.Search;

public sealed class ScoreFusionTests
{
    private const float Tolerance = 1e-6f;

    [Fact]
    public void Rrf_matches_hand_computed_scores()
    {
        // rrf(1) = 1/61 + 1/62, rrf(2) = 1/62, rrf(3) = 1/63 + 1/61; max = 2/61.
        var fused = ScoreFusion.ReciprocalRank([new RankedList(Hits(1, 2, 3)), new RankedList(Hits(3, 1))], limit: 10);

        Assert.Equal([1L, 3L, 2L], fused.Select(h => h.Key));
        Assert.Equal(0.5 + (61.0 / 124), fused[0].Score, Tolerance);
        Assert.Equal(0.5 + (61.0 / 126), fused[1].Score, Tolerance);
        Assert.Equal(61.0 / 124, fused[2].Score, Tolerance);
    }

    [Fact]
    public void Rrf_weights_and_k_apply()
    {
        // k=1, w = (3, 1): rrf(1) = 3/2 + 1/3, rrf(2) = 3/3 + 1/2; max = 3/2 + 1/2 = 2.
        var fused = ScoreFusion.ReciprocalRank([new RankedList(Hits(1, 2), 3), new RankedList(Hits(2, 1), 1)], limit: 10, k: 1);

        Assert.Equal([1L, 2L], fused.Select(h => h.Key));
        Assert.Equal(((3.0 / 2) + (1.0 / 3)) / 2, fused[0].Score, Tolerance);
        Assert.Equal(((3.0 / 3) + (1.0 / 2)) / 2, fused[1].Score, Tolerance);
    }

    [Fact]
    public void Rrf_top_of_every_list_scores_one_and_duplicates_count_once()
    {
        var fused = ScoreFusion.ReciprocalRank([new RankedList(Hits(7, 7, 8)), new RankedList(Hits(7))], limit: 1);

        Assert.Equal(new SearchHit(7, 1f), Assert.Single(fused));
    }

    [Fact]
    public void Weighted_matches_hand_computed_scores()
    {
        // w = (0.7, 0.3); bm25 normalised by max 10:
        // 1: 0.7*0.8 = 0.56; 2: 0.7*0.6 + 0.3*1 = 0.72; 3: cos clamped to 0 → 0; 4: 0.3*0.5 = 0.15.
        SearchHit[] dense = [new(1, 0.8f), new(2, 0.6f), new(3, -0.2f)];
        SearchHit[] lexical = [new(2, 10f), new(4, 5f)];

        var fused = ScoreFusion.Weighted(dense, lexical, new HybridWeights(0.7, 0.3), limit: 10);

        Assert.Equal([2L, 1L, 4L, 3L], fused.Select(h => h.Key));
        Assert.Equal([0.72f, 0.56f, 0.15f, 0f], fused.Select(h => h.Score), (a, b) => Math.Abs(a - b) < Tolerance);
    }

    [Fact]
    public void Weighted_divides_by_the_weight_sum_so_only_the_ratio_matters()
    {
        SearchHit[] dense = [new(1, 1f)];
        SearchHit[] lexical = [new(1, 3f)];

        Assert.Equal(1f, ScoreFusion.Weighted(dense, lexical, new HybridWeights(7, 3), 5)[0].Score, Tolerance);
        Assert.Equal(0.7f, ScoreFusion.Weighted(dense, [], new HybridWeights(7, 3), 5)[0].Score, Tolerance);
    }

    [Fact]
    public void Weighted_with_only_zero_lexical_scores_keeps_the_dense_part()
    {
        var fused = ScoreFusion.Weighted([new(1, 0.5f)], [new(2, 0f)], HybridWeights.Default, 5);

        Assert.Equal([new SearchHit(1, 0.25f), new SearchHit(2, 0f)], fused);
    }

    [Fact]
    public void Weighted_rejects_zero_weights() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ScoreFusion.Weighted([], [], new HybridWeights(0, 0), 5));

    [Fact]
    public void MergeQueries_takes_each_keys_best_score_and_breaks_ties_by_key()
    {
        IReadOnlyList<SearchHit>[] perQuery = [[new(1, 0.9f), new(2, 0.5f)], [new(3, 0.7f), new(2, 0.7f)]];

        var merged = ScoreFusion.MergeQueries(perQuery, limit: 10);

        Assert.Equal([new SearchHit(1, 0.9f), new SearchHit(2, 0.7f), new SearchHit(3, 0.7f)], merged);
        Assert.Equal(2, ScoreFusion.MergeQueries(perQuery, limit: 2).Length);
    }

    [Fact]
    public void Fused_scores_are_in_unit_range_and_monotone()
    {
        var random = new Random(5);
        var lists = Enumerable.Range(0, 3)
            .Select(_ => new RankedList(Enumerable.Range(0, 50).Select(_ => new SearchHit(random.Next(80), 0)).ToArray(), random.NextDouble() + 0.1))
            .ToArray();

        var fused = ScoreFusion.ReciprocalRank(lists, limit: 100);

        Assert.All(fused, h => Assert.InRange(h.Score, 0f, 1f));
        Assert.True(fused.Zip(fused.Skip(1)).All(p => p.First.Score >= p.Second.Score));
    }

    private static SearchHit[] Hits(params long[] keys) => [.. keys.Select(k => new SearchHit(k, 0))];
}
