using Quiver.Core.Search;
using Quiver.Core.Search.Indexes;

namespace Quiver.Tests.Search;

/// <summary>
/// The in-memory postings rank exactly like BM25 computed from scratch over the chunks they hold — scores, order and
/// ties by ascending key — after files are added, replaced and removed, with and without a file filter.
/// </summary>
public sealed class StoreLexicalIndexTests
{
    private static readonly string[] Vocabulary = ["cell", "gene", "tumour", "mice", "protein", "the", "risk", "dose", "x", "y", "z", "w"];

    [Fact]
    public void Top_k_equals_a_recomputation_after_adds_replacements_and_removals()
    {
        var random = new Random(20261207);
        var index = new StoreLexicalIndex();
        var files = new Dictionary<int, List<Chunk>>();
        long nextKey = 1;
        for (var step = 0; step < 300; step++)
        {
            var ordinal = random.Next(1, 40);
            if (random.Next(5) == 0)
            {
                files.Remove(ordinal);
                index.Apply([ordinal], []);
            }
            else
            {
                var chunks = Enumerable.Range(0, random.Next(0, 6)).Select(_ => NewChunk(random, nextKey++)).ToList();
                files[ordinal] = chunks;
                index.Apply([], [(ordinal, Rows(chunks))]);
            }

            if (step % 10 != 9)
            {
                continue;
            }

            Assert.Equal(files.Values.Sum(c => c.Count), index.ChunkCount);
            var terms = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]).Append("absent").ToList();
            foreach (var k in new[] { 1, 5, 1000 })
            {
                foreach (Predicate<int>? allowed in new Predicate<int>?[] { null, o => o % 2 == 0 })
                {
                    var expected = Recompute(files, terms, k, allowed);
                    var actual = index.Search(terms, k, allowed);
                    Assert.Equal(expected.Select(h => h.Key), actual.Select(h => h.Key));
                    Assert.Equal(expected.Select(h => h.Score), actual.Select(h => h.Score), (a, b) => Math.Abs(a - b) <= 1e-5f * Math.Max(1, Math.Abs(a)));
                }
            }
        }
    }

    [Fact]
    public void An_empty_store_or_unknown_terms_find_nothing()
    {
        var index = new StoreLexicalIndex();
        Assert.Empty(index.Search(["cell"], 10, null));
        index.Apply([], [(1, Rows([new Chunk(7, 3, new Dictionary<string, int> { ["cell"] = 2, ["gene"] = 1 })]))]);
        Assert.Empty(index.Search(["protein"], 10, null));
        Assert.Equal([7L], index.Search(["cell", "cell"], 10, null).Select(h => h.Key));
        index.Apply([1], []);
        Assert.Empty(index.Search(["cell"], 10, null));
    }

    private static Chunk NewChunk(Random random, long key)
    {
        var terms = new Dictionary<string, int>(StringComparer.Ordinal);
        var length = random.Next(0, 12);
        for (var i = 0; i < length; i++)
        {
            var term = Vocabulary[random.Next(Vocabulary.Length)];
            terms[term] = terms.GetValueOrDefault(term) + 1;
        }

        return new Chunk(key, length, terms);
    }

    private static FileLexicalRows Rows(IReadOnlyList<Chunk> chunks) => new(
        [.. chunks.Select(c => (c.Key, c.Length))],
        [.. chunks.SelectMany(c => c.Terms.Select(t => (c.Key, t.Key, t.Value)))]);

    private static List<SearchHit> Recompute(Dictionary<int, List<Chunk>> files, IReadOnlyList<string> terms, int k, Predicate<int>? allowed)
    {
        var all = files.Values.SelectMany(c => c).ToList();
        if (all.Count == 0)
        {
            return [];
        }

        var averageLength = all.Average(c => (double)c.Length);
        var scores = new Dictionary<long, double>();
        foreach (var term in terms.Distinct())
        {
            var df = all.Count(c => c.Terms.ContainsKey(term));
            if (df == 0)
            {
                continue;
            }

            var idf = Bm25.Idf(all.Count, df);
            foreach (var (ordinal, chunks) in files)
            {
                if (allowed is not null && !allowed(ordinal))
                {
                    continue;
                }

                foreach (var chunk in chunks.Where(c => c.Terms.ContainsKey(term)))
                {
                    scores[chunk.Key] = scores.GetValueOrDefault(chunk.Key) + Bm25.Term(idf, chunk.Terms[term], chunk.Length, averageLength);
                }
            }
        }

        return [.. scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key).Take(k).Select(s => new SearchHit(s.Key, (float)s.Value))];
    }

    private sealed record Chunk(long Key, int Length, Dictionary<string, int> Terms);
}
