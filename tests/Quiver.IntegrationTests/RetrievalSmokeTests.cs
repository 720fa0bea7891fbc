using System.Text.Json;
using System.Text.Json.Nodes;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>
/// Retrieval quality through HTTP with the real local models: 300 SciFact abstracts and 30 of the test
/// claims (Fixtures/scifact-smoke, made by bench/scripts/make-scifact-smoke.py). A small stand-in for
/// the full benchmark (bench/Quiver.Bench retrieval), not a measurement of it: 30 queries over 300
/// docs score differently from 300 over 5,183, so the floors sit a margin below what the models score
/// here and catch a broken leg (prefix, pooling, tokenizer, BM25 query, fusion), not a small regression.
/// </summary>
public sealed class RetrievalSmokeTests
{
    private const string Prefix = "/v1";
    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "scifact-smoke");

    /// <summary>
    /// Floors are the measured nDCG@10 minus about 0.05 (dense / BM25 / hybrid): on SQLite arctic
    /// 0.751 / 0.773 / 0.757 and the ensemble 0.810 / 0.785 / 0.811 (BM25 differs with the chunk size:
    /// 400 vs 200 tokens); on PostgreSQL (768-d pgvector, tsvector ranking) the ensemble 0.810 / 0.733 / 0.763.
    /// </summary>
    [Theory]
    [InlineData("sqlite", "local:snowflake-arctic-embed-xs", 0.70, 0.72, 0.70)]
    [InlineData("sqlite", "local:arctic-embed-xs+all-minilm-l6-v2", 0.76, 0.73, 0.76)]
    [InlineData("postgres", "local:arctic-embed-xs+all-minilm-l6-v2", 0.76, 0.68, 0.71)]
    public async Task SciFact_claims_find_their_abstracts(string backend, string model, double denseFloor, double lexicalFloor, double hybridFloor)
    {
        if (backend == "postgres")
        {
            PostgresTestServer.RequireOrSkip();
        }

        await using QuiverFactory factory = backend == "postgres"
            ? new PostgresQuiverFactory { UseRealEmbeddings = true }
            : new QuiverFactory { UseRealEmbeddings = true };
        var client = factory.CreateApiClient();
        var corpus = ReadLines("corpus.jsonl").Select(d => (Id: d.GetProperty("_id").GetString()!, Text: d.GetProperty("title").GetString() + "\n" + d.GetProperty("text").GetString())).ToList();
        var queries = ReadLines("queries.jsonl").Select(q => (Id: q.GetProperty("_id").GetString()!, Text: q.GetProperty("text").GetString()!)).ToList();
        var qrels = File.ReadAllLines(Path.Combine(FixtureDir, "qrels.tsv")).Skip(1).Select(l => l.Split('\t'))
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Select(p => p[1]).ToHashSet(StringComparer.Ordinal));

        var fileIds = new List<string>(corpus.Count);
        foreach (var (id, text) in corpus)
        {
            fileIds.Add((string)(await client.UploadAsync(Prefix, id + ".txt", text))["id"]!);
        }

        var storeId = (string)(await client.CreateStoreAsync(Prefix, $$"""{"name":"scifact-smoke","embedding_model":"{{model}}"}"""))["id"]!;
        var batch = await client.PostJsonAsync($"{Prefix}/vector_stores/{storeId}/file_batches", JsonSerializer.Serialize(new { file_ids = fileIds }));
        batch = await client.WaitForBatchAsync(Prefix, storeId, (string)batch["id"]!, timeoutSeconds: 600);
        Assert.Equal(corpus.Count, batch.Count("completed"));

        var dense = await MeanNdcgAsync(client, storeId, queries, qrels, """{"ranker":"none"}""");
        var lexical = await MeanNdcgAsync(client, storeId, queries, qrels, """{"hybrid_search":{"embedding_weight":0,"text_weight":1}}""");
        var hybrid = await MeanNdcgAsync(client, storeId, queries, qrels, null);

        var scores = $"{backend}, {model}: nDCG@10 dense {dense:F3}, BM25 {lexical:F3}, hybrid {hybrid:F3}";
        TestContext.Current.TestOutputHelper?.WriteLine(scores);
        Assert.True(dense >= denseFloor, $"dense below {denseFloor}; {scores}");
        Assert.True(lexical >= lexicalFloor, $"BM25 below {lexicalFloor}; {scores}");
        Assert.True(hybrid >= hybridFloor, $"hybrid below {hybridFloor}; {scores}");
    }

    private static IEnumerable<JsonElement> ReadLines(string name) =>
        File.ReadLines(Path.Combine(FixtureDir, name)).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone());

    /// <summary>Mean nDCG@10 (binary gains; a doc counts once, at its best chunk) over the queries.</summary>
    private static async Task<double> MeanNdcgAsync(
        HttpClient client, string storeId, List<(string Id, string Text)> queries, Dictionary<string, HashSet<string>> qrels, string? rankingOptions)
    {
        var sum = 0.0;
        foreach (var (id, text) in queries)
        {
            var body = new JsonObject { ["query"] = text, ["max_num_results"] = 50 };
            if (rankingOptions is not null)
            {
                body["ranking_options"] = JsonNode.Parse(rankingOptions);
            }

            var response = await client.PostJsonAsync($"{Prefix}/vector_stores/{storeId}/search", body.ToJsonString());
            var docs = response["data"]!.AsArray().Select(r => ((string)r!["filename"]!)[..^4]).Distinct().Take(10).ToList();
            var relevant = qrels[id];
            var dcg = docs.Select((d, rank) => relevant.Contains(d) ? 1 / Math.Log2(rank + 2) : 0).Sum();
            var ideal = Enumerable.Range(0, Math.Min(10, relevant.Count)).Sum(rank => 1 / Math.Log2(rank + 2));
            sum += dcg / ideal;
        }

        return sum / queries.Count;
    }
}
