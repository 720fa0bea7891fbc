using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Quiver.Core.Search;
using Quiver.IntegrationTests.Batches;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Search;

public sealed class LexicalStatisticsTests(QuiverFactory factory) : LexicalStatisticsContract<QuiverFactory>(factory);

public sealed class LexicalStatisticsPostgresTests : LexicalStatisticsContract<PostgresQuiverFactory>
{
    private readonly PostgresQuiverFactory _factory;

    public LexicalStatisticsPostgresTests(PostgresQuiverFactory factory)
        : base(factory)
    {
        PostgresTestServer.RequireOrSkip();
        _factory = factory;
    }

    /// <summary>
    /// The MaxScore query (frequent terms looked up only for chunks that can still make the top k) answers exactly
    /// what summing every posting does: same chunks, same order, same scores, with and without a filter, and it is
    /// the path actually taken for queries that mix rare and frequent terms. The in-process postings a small store
    /// is searched from answer the same.
    /// </summary>
    [Fact]
    public async Task Pruned_lexical_search_returns_exactly_the_exhaustive_top_k()
    {
        string[] frequent = ["study", "patients", "results", "increased", "associated", "risk"];
        var rare = Enumerable.Range(0, 200).Select(i => $"marker{i}").ToArray();
        var random = new Random(20261207);
        var client = _factory.NewUser();
        var storeId = (string)(await client.CreateStoreAsync("/v1"))["id"]!;
        var ids = new List<string>();
        for (var i = 0; i < 160; i++)
        {
            var words = Enumerable.Range(0, random.Next(20, 70)).Select(_ => random.Next(4) == 0 ? rare[random.Next(rare.Length)] : frequent[random.Next(frequent.Length)]);
            ids.Add((string)(await client.UploadAsync("/v1", $"p{i}.txt", string.Join(' ', words)))["id"]!);
        }

        for (var i = 0; i < ids.Count; i++)
        {
            using var attached = await client.PostAsync($"/v1/vector_stores/{storeId}/files",
                new StringContent("{\"file_id\":\"" + ids[i] + "\",\"attributes\":{\"half\":" + (i % 2) + "}}", System.Text.Encoding.UTF8, "application/json"), Ct);
            attached.EnsureSuccessStatusCode();
        }

        await BatchTestKit.WaitUntilAsync(
            async () => (await client.ListAllAsync($"/v1/vector_stores/{storeId}/files")).All(f => (string?)f["status"] == "completed"),
            "every file to complete", 120);

        var search = (Quiver.Core.Storage.Postgres.PostgresChunkSearchStore)_factory.Services.GetRequiredService<IChunkSearchStore>();
        var prunedBefore = search.PrunedAnswers;
        AttributeFilter filter = new ComparisonFilter(FilterOperator.Eq, "half", [FilterScalar.FromNumber(1)]);
        var compared = 0;
        for (var i = 0; i < 40; i++)
        {
            var query = $"{rare[random.Next(rare.Length)]} {rare[random.Next(rare.Length)]} {frequent[random.Next(frequent.Length)]} {frequent[random.Next(frequent.Length)]}";
            foreach (var k in new[] { 3, 10 })
            {
                foreach (var f in new[] { null, filter })
                {
                    var pruned = await search.LexicalSearchInDatabaseAsync(storeId, query, k, f, Ct);
                    var exhaustive = await search.LexicalSearchExhaustiveAsync(storeId, query, k, f, Ct);
                    var inMemory = await search.LexicalSearchAsync(storeId, query, k, f, Ct);
                    Assert.Equal(exhaustive.Select(h => h.Key), pruned.Select(h => h.Key));
                    Assert.Equal(exhaustive.Select(h => h.Score), pruned.Select(h => h.Score), (a, b) => Math.Abs(a - b) <= 1e-5f * Math.Max(1, Math.Abs(a)));
                    Assert.Equal(exhaustive.Select(h => h.Key), inMemory.Select(h => h.Key));
                    Assert.Equal(exhaustive.Select(h => h.Score), inMemory.Select(h => h.Score), (a, b) => Math.Abs(a - b) <= 1e-5f * Math.Max(1, Math.Abs(a)));
                    compared += pruned.Count;
                }
            }
        }

        Assert.True(compared > 400, $"only {compared} hits compared");
        Assert.True(search.PrunedAnswers - prunedBefore >= 40, $"the pruned query answered only {search.PrunedAnswers - prunedBefore} of 160 searches");
        Assert.True(search.ResidentPostingLoads >= 1, "the in-process postings were never loaded");
    }
}

/// <summary>
/// BM25's statistics stay exact whatever happens to a store's files: after a fixed-seed random run of attach,
/// re-attach, detach, file delete, batch create + cancel and store delete over two stores, the backend's lexical
/// scores equal a from-scratch recomputation over the chunks left in the database, and on PostgreSQL the stored
/// postings, term document frequencies and store totals equal the recomputed ones row for row.
/// </summary>
public abstract class LexicalStatisticsContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : QuiverFactory
{
    private static readonly string[] Vocabulary =
    [
        "protein", "proteins", "binding", "cells", "cell", "immune", "response", "tumour", "mice", "mouse", "running",
        "runs", "dna", "methylation", "methylated", "café", "naïve", "x-ray", "2024", "receptor", "receptors", "the", "of",
        "and", "signal", "signalling", "kinase", "inhibitor", "inhibition", "gene", "genes", "expression", "expressed",
    ];

    private static readonly string[] Queries =
    [
        "protein binding", "immune cells of mice", "methylated DNA expression", "kinase inhibitor receptor", "cafe naive x-ray",
        "running signal", "the", "genes",
    ];

    [Fact]
    public async Task Statistics_match_a_recomputation_after_random_attach_detach_delete_and_cancel()
    {
        var random = new Random(20261206);
        var client = factory.NewUser();
        string NewText() => string.Join(' ', Enumerable.Range(0, random.Next(3, 60)).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]));

        var stores = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            stores.Add((string)(await client.CreateStoreAsync("/v1"))["id"]!);
        }

        var files = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            files.Add((string)(await client.UploadAsync("/v1", $"f{i}.txt", NewText()))["id"]!);
        }

        for (var step = 0; step < 120; step++)
        {
            var store = stores[random.Next(stores.Count)];
            var file = files[random.Next(files.Count)];
            switch (random.Next(10))
            {
                case < 4: // attach, or re-attach with other attributes (re-processes an attached file)
                    await client.PostAsync($"/v1/vector_stores/{store}/files", Json("{\"file_id\":\"" + file + "\",\"attributes\":{\"step\":" + step + "}}"), Ct);
                    break;
                case 4 or 5:
                    await client.DeleteAsync($"/v1/vector_stores/{store}/files/{file}", Ct);
                    break;
                case 6 when files.Count > 10:
                    await client.DeleteAsync($"/v1/files/{file}", Ct);
                    files.Remove(file);
                    files.Add((string)(await client.UploadAsync("/v1", $"n{step}.txt", NewText()))["id"]!);
                    break;
                case 7 or 8:
                {
                    var members = files.OrderBy(_ => random.Next()).Take(random.Next(2, 12)).ToList();
                    var batch = await client.PostAsync($"/v1/vector_stores/{store}/file_batches", Json("{\"file_ids\":" + BatchTestKit.FileIdsJson(members) + "}"), Ct);
                    if (batch.IsSuccessStatusCode && random.Next(2) == 0)
                    {
                        var batchId = (string)(await batch.ReadJsonAsync(System.Net.HttpStatusCode.OK))["id"]!;
                        await client.PostAsync($"/v1/vector_stores/{store}/file_batches/{batchId}/cancel", null, Ct);
                    }

                    break;
                }

                case 9 when step % 40 == 39:
                    await client.DeleteAsync($"/v1/vector_stores/{store}", Ct);
                    stores.Remove(store);
                    stores.Add((string)(await client.CreateStoreAsync("/v1"))["id"]!);
                    break;
            }
        }

        foreach (var store in stores)
        {
            await BatchTestKit.WaitUntilAsync(
                async () => (await client.ListAllAsync($"/v1/vector_stores/{store}/files")).All(f => (string?)f["status"] != "in_progress"),
                "every store file to settle", 120);
        }

        await factory.WaitForIdleWorkersAsync();
        var chunks = await StoredLexicalStatistics.ReadChunksAsync(Open);
        Assert.NotEmpty(chunks);
        var analyzed = Fts5Analyzer.Shared.Analyze([.. chunks.Select(c => c.Text)]);

        if (factory is PostgresQuiverFactory)
        {
            await StoredLexicalStatistics.AssertMatchAsync(Open, chunks, analyzed);
        }

        var search = factory.Services.GetRequiredService<IChunkSearchStore>();
        var compared = 0;
        foreach (var store in stores)
        {
            foreach (var query in Queries)
            {
                var actual = await search.LexicalSearchAsync(store, query, 1000, null, Ct);
                var expected = Recompute(chunks, analyzed, store, query);
                Assert.Equal(expected.Keys.Order(), actual.Select(h => h.Key).Order());
                foreach (var hit in actual)
                {
                    Assert.Equal(expected[hit.Key], hit.Score, 1e-4 * Math.Max(1, Math.Abs(expected[hit.Key])));
                    compared++;
                }
            }
        }

        Assert.True(compared > 50, $"only {compared} scores compared");
    }

    /// <summary>
    /// BM25 per the backend's definition: PostgreSQL scores a store from its own chunks; FTS5 keeps one index for
    /// the database, so N, mean length and document frequencies span every store, and each chunk's length counts
    /// its store token (the second column) too.
    /// </summary>
    private Dictionary<long, double> Recompute(List<StoredLexicalStatistics.Chunk> chunks, IReadOnlyList<AnalyzedText> analyzed, string store, string query)
    {
        var perStore = factory is PostgresQuiverFactory;
        var population = Enumerable.Range(0, chunks.Count).Where(i => !perStore || chunks[i].Store == store).ToList();
        var extra = perStore ? 0 : 1;
        var averageLength = population.Count == 0 ? 1 : population.Average(i => (double)analyzed[i].Length + extra);
        var scores = new Dictionary<long, double>();
        foreach (var term in Fts5Analyzer.Shared.QueryTerms(query))
        {
            var idf = Bm25.Idf(population.Count, population.Count(i => analyzed[i].Terms.ContainsKey(term)));
            foreach (var i in population.Where(i => chunks[i].Store == store))
            {
                if (analyzed[i].Terms.TryGetValue(term, out var tf))
                {
                    scores[chunks[i].Id] = scores.GetValueOrDefault(chunks[i].Id) + Bm25.Term(idf, tf, analyzed[i].Length + extra, averageLength);
                }
            }
        }

        return scores;
    }

    private DbConnection Open() => factory is PostgresQuiverFactory postgres
        ? new NpgsqlConnection(postgres.ConnectionString)
        : new SqliteConnection($"Data Source={Path.Combine(factory.DataDir, "quiver.db")};Mode=ReadOnly;Pooling=False");

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
