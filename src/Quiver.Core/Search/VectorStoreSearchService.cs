using System.Diagnostics;
using Quiver.Core.Access;
using Quiver.Core.Embeddings;
using Quiver.Core.Telemetry;
using Quiver.Core.Tenancy;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Search;

/// <summary>
/// Search over one vector store (D10): retrieve dense and lexical candidates from the files passing
/// the filter only (each backend applies it inside its retrieval), fuse, cut to <c>max_num_results</c>, apply the threshold, attach text.
///
/// Scores: hybrid uses reciprocal rank fusion normalised to [0,1] (a chunk ranked first by both
/// retrievers scores 1); with explicit <c>hybrid_search</c> weights, a weighted sum of cosine and
/// max-normalised BM25; <c>ranker: none</c> is the cosine clamped to [0,1]. Several queries are
/// each searched and merged by their best score. Scores are monotone with rank.
/// </summary>
internal sealed class VectorStoreSearchService(
    IVectorStoreRepository stores,
    IChunkSearchStore chunks,
    IEmbeddingModelRegistry models,
    StoreActivity activity,
    AccessChecker access,
    TimeProvider time)
{
    /// <summary>Candidates taken from each retriever before fusion: enough depth for rank fusion to matter.</summary>
    public const int MinCandidates = 100;

    public async Task<SearchResult> SearchAsync(Principal principal, string storeId, SearchRequest request, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var owner = await access.RequireBeforeLoadAsync(principal, ResourceTypes.VectorStore, storeId, ResourceRole.Reader, () => VectorStoreErrors.StoreNotFound(storeId), ct);
        var store = activity.Apply(await stores.GetStoreAsync(owner, storeId, ct) ?? throw VectorStoreErrors.StoreNotFound(storeId));
        if (store.IsExpired(now))
        {
            throw VectorStoreErrors.StoreExpired(storeId);
        }

        var queries = request.RewriteQuery ? request.Queries.Select(QueryRewriter.Rewrite).ToList() : request.Queries;
        var result = await SearchStoreAsync(store, queries, request, ct);

        // Activity slides the expiry clock; written in the background, not on the read path.
        activity.Record(store, now);

        return result;
    }

    /// <summary>The search itself, without ownership checks or side effects (also used by benchmarks).</summary>
    public async Task<SearchResult> SearchStoreAsync(VectorStoreRecord store, IReadOnlyList<string> queries, SearchRequest request, CancellationToken ct)
    {
        using var activity = QuiverTelemetry.Source.StartActivity("search");
        activity?.SetTag("quiver.vector_store.id", store.Id);
        activity?.SetTag("quiver.search.ranker", request.Ranker.ToString());
        activity?.SetTag("quiver.search.queries", queries.Count);
        var started = Stopwatch.GetTimestamp();
        // The filter goes down to each retrieval (applied before its top-k cut); results carry their file's data
        // with the chunk text.
        var filter = request.Filter;
        var candidates = Math.Max(MinCandidates, request.MaxResults * 4);

        // The lexical leg needs no query vector, so it runs while the queries are embedded (the
        // embedding is most of a query's time): hybrid costs max(dense, lexical), not the sum.
        // Awaiting both together observes a failure of either.
        IReadOnlyList<SearchHit>[] none = [];
        var lexicalTask = request.Ranker == Ranker.DenseOnly
            ? Task.FromResult(none)
            : Leg("lexical", () => Task.WhenAll(queries.Select(q => Task.Run(
                () => chunks.LexicalSearchAsync(store.Id, q, request.Ranker == Ranker.LexicalOnly ? request.MaxResults : candidates, filter, ct), ct))));
        var denseTask = request.Ranker == Ranker.LexicalOnly
            ? Task.FromResult<IReadOnlyList<IReadOnlyList<SearchHit>>>([])
            : DenseAsync(store, queries, candidates, filter, ct);
        await Task.WhenAll(lexicalTask, denseTask);
        var (dense, lexical) = (await denseTask, await lexicalTask);

        var fusionStarted = Stopwatch.GetTimestamp();
        var perQuery = new List<IReadOnlyList<SearchHit>>(queries.Count);
        for (var i = 0; i < queries.Count; i++)
        {
            perQuery.Add(request.Ranker switch
            {
                Ranker.DenseOnly => [.. dense[i].Take(request.MaxResults).Select(h => h with { Score = Math.Clamp(h.Score, 0f, 1f) })],
                Ranker.LexicalOnly => NormaliseByBest(lexical[i]),
                _ => request.Weights is { } weights
                    ? ScoreFusion.Weighted(dense[i], lexical[i], weights, candidates)
                    : ScoreFusion.ReciprocalRank([new RankedList(dense[i]), new RankedList(lexical[i])], candidates),
            });
        }

        var merged = perQuery.Count == 1 ? perQuery[0] : ScoreFusion.MergeQueries(perQuery, request.MaxResults);
        var top = merged.Where(h => h.Score >= request.ScoreThreshold).Take(request.MaxResults).ToList();
        Record("fusion", fusionStarted);
        var texts = await Leg("fetch", () => chunks.GetChunksAsync(store.Id, [.. top.Select(h => h.Key)], ct));
        var items = new List<SearchResultItem>(top.Count);
        foreach (var hit in top)
        {
            // A chunk removed since retrieval (detach, cancel) is simply left out.
            if (texts.TryGetValue(hit.Key, out var chunk))
            {
                items.Add(new SearchResultItem(chunk.FileId, chunk.Filename, hit.Score, chunk.Attributes, chunk.Text, hit.Key));
            }
        }

        Record("total", started);
        activity?.SetTag("quiver.search.results", items.Count);
        return new SearchResult(queries, items);
    }

    /// <summary>Runs one leg of a search as its own span and records its latency under <c>leg</c>.</summary>
    private static async Task<T> Leg<T>(string leg, Func<Task<T>> run)
    {
        using var span = QuiverTelemetry.Source.StartActivity("search." + leg);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await run();
        }
        finally
        {
            Record(leg, started);
        }
    }

    private static void Record(string leg, long started) =>
        QuiverTelemetry.SearchDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("leg", leg));

    private async Task<IReadOnlyList<IReadOnlyList<SearchHit>>> DenseAsync(
        VectorStoreRecord store, IReadOnlyList<string> queries, int candidates, AttributeFilter? filter, CancellationToken ct)
    {
        var model = models.Get(store.EmbeddingModel);
        var vectors = await Leg("embed", () => Task.WhenAll(queries.Select(q => model.EmbedQueryAsync(q, ct))));
        return await Leg("dense", () => chunks.DenseSearchAsync(store.Id, store.EmbeddingDimensions, vectors, candidates, filter, ct));
    }

    /// <summary>Lexical-only scores: BM25 divided by the best one, so the top result scores 1.</summary>
    private static IReadOnlyList<SearchHit> NormaliseByBest(IReadOnlyList<SearchHit> hits)
    {
        var max = hits.Count > 0 ? hits[0].Score : 1f;
        return [.. hits.Select(h => h with { Score = max > 0 ? h.Score / max : 0f })];
    }
}
