using System.Data.Common;
using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quiver.Core.Access;
using Quiver.Core.Errors;
using Quiver.Core.Hosting;
using Quiver.Core.Storage.Postgres;
using Quiver.Core.Storage.Sqlite;
using Quiver.Core.Tenancy;
using Quiver.Core.VectorStores;
using Quiver.Server.Hosting;

using static Quiver.Bench.BenchSupport;

namespace Quiver.Bench;

/// <summary>
/// What the role checks add: the per-request check a search (or any single-object route) now makes,
/// and the list query of a principal owning <c>--stores</c> stores with the grant-aware predicate
/// against the owner-only predicate it replaced. Both measured in process, on the real schema.
/// Usage: <c>dotnet run -c Release --project bench/Quiver.Bench -- access [--stores 1000] [--grants 1000] [--iterations 2000] [--pg CONNSTRING]</c>
/// (with <c>--pg</c> a throwaway database is created on that server and dropped after).
/// </summary>
public static class AccessBenchmark
{
    private const string ApiKey = "bench-key";
    private const string Columns = "s.id, s.project, s.owner, s.name, s.description, s.metadata, s.embedding_model, s.embedding_dimensions, s.created_at";

    public static async Task<int> RunAsync(string[] args)
    {
        var stores = Option(args, "--stores", 1000);
        var grants = Option(args, "--grants", 1000);
        var iterations = Option(args, "--iterations", 2000);
        var pg = Option(args, "--pg");
        string? database = null;
        if (pg is not null)
        {
            database = "quiver_bench_access_" + Guid.NewGuid().ToString("N")[..12];
            await using var admin = new NpgsqlConnection(pg);
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var dataDir = Path.Combine(Path.GetTempPath(), "quiver-bench-access-" + Guid.NewGuid().ToString("N"));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Quiver:DataDir"] = dataDir,
            ["QUIVER_API_KEY"] = ApiKey,
            ["Quiver:Ingestion:Workers"] = "1",
            ["Quiver:Storage:Provider"] = pg is null ? "sqlite" : "postgres",
            ["ConnectionStrings:Quiver"] = pg is null ? null : new NpgsqlConnectionStringBuilder(pg) { Database = database }.ConnectionString,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddQuiverCore();
        builder.AddQuiverServer();
        try
        {
            await using var app = builder.Build();
            app.UseQuiverServer();
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            http.DefaultRequestHeaders.Add("X-On-Behalf-Of", "alice");

            var ids = new string[stores];
            await Parallel.ForAsync(0, stores, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            {
                using var content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
                using var response = await http.PostAsync("/v1/vector_stores", content, ct);
                ids[i] = (string)(await ReadAsync(response))["id"]!;
            });

            // Grants to other users on alice's stores, so the grant table is not empty.
            var project = await ProjectOfAsync(app.Services, ids[0], pg is not null);
            var grantStore = app.Services.GetRequiredService<IGrantStore>();
            for (var i = 0; i < grants; i++)
            {
                await grantStore.GrantAsync(project, ResourceTypes.VectorStore, ids[i % stores], $"user{i}", ResourceRole.Reader, 0, CancellationToken.None);
            }

            var alice = new Principal(project, "alice");
            var checker = app.Services.GetRequiredService<AccessChecker>();
            // The check a search makes (RequireBeforeLoadAsync): for the store's creator, answered from memory after the
            // first; for a user holding a grant, read from the database every time (what a revoke relies on).
            var check = await TimeAsync(iterations, i => checker.RequireBeforeLoadAsync(
                alice, ResourceTypes.VectorStore, ids[i % stores], ResourceRole.Reader, () => ApiErrors.NotFound("missing"), CancellationToken.None));
            var grantedCheck = await TimeAsync(iterations, i => checker.RequireBeforeLoadAsync(
                new Principal(project, $"user{i % grants}"), ResourceTypes.VectorStore, ids[i % grants % stores], ResourceRole.Reader,
                () => ApiErrors.NotFound("missing"), CancellationToken.None));

            Func<Task<DbConnection>> open = pg is null
                ? async () => await app.Services.GetRequiredService<SqliteDatabase>().OpenAsync(CancellationToken.None)
                : async () => await app.Services.GetRequiredService<PostgresDatabase>().OpenAsync(CancellationToken.None);
            var ownerOnly = $"SELECT {Columns} FROM vector_stores s WHERE s.project = @project AND s.owner = @owner";
            // The repositories' list (KeysetQuery with a second branch): the owned index walk UNION ALL the rows shared with
            // the user, merged by one compound ORDER BY … LIMIT on SQLite, each branch ordered and limited first on PostgreSQL.
            var owned = $"SELECT {Columns} FROM vector_stores s WHERE {GrantSql.Owned("s.")}";
            var sharedRows = $"SELECT {Columns} FROM vector_stores s WHERE {GrantSql.SharedNotOwned(ResourceTypes.VectorStore, "s.")}";
            const string branchOrder = " ORDER BY s.created_at DESC, s.id DESC LIMIT 101";
            var union = pg is null
                ? $"{owned} UNION ALL {sharedRows}"
                : $"SELECT * FROM ({owned}{branchOrder}) AS first_branch UNION ALL SELECT * FROM ({sharedRows}{branchOrder}) AS second_branch";
            var before = await TimeListAsync(open, ownerOnly, "s.", project, iterations / 4);
            var after = await TimeListAsync(open, union, "", project, iterations / 4);

            // Then 100 of bob's stores are shared with alice: her list merges them in.
            var bob = new Principal(project, "bob");
            var vectorStores = app.Services.GetRequiredService<VectorStoreService>();
            for (var i = 0; i < 100; i++)
            {
                var shared = await vectorStores.CreateStoreAsync(bob, $"bob-{i}", null, AttributeMap.Empty, null, null, [], CancellationToken.None);
                await grantStore.GrantAsync(project, ResourceTypes.VectorStore, shared.Id, "alice", ResourceRole.Reader, 0, CancellationToken.None);
            }

            var sharedPath = await TimeListAsync(open, union, "", project, iterations / 4);

            Console.WriteLine($"access benchmark ({(pg is null ? "sqlite" : "postgres")}): {stores} stores owned by one user, {grants} grants to other users, {Environment.ProcessorCount} cores");
            Console.WriteLine($"  role check (added to every single-object request, e.g. search), the creator: p50 {Percentile(check, 0.5):F3} ms, p99 {Percentile(check, 0.99):F3} ms ({check.Count} calls)");
            Console.WriteLine($"  role check, a user holding a grant (read per call): p50 {Percentile(grantedCheck, 0.5):F3} ms, p99 {Percentile(grantedCheck, 0.99):F3} ms ({grantedCheck.Count} calls)");
            Console.WriteLine($"  list query, 101 rows of {stores}: before (owner-only) p50 {Percentile(before, 0.5):F3} ms; now (owned UNION ALL shared{(pg is null ? "" : ", each branch limited")}), no grant reaches the user p50 {Percentile(after, 0.5):F3} ms (added {Percentile(after, 0.5) - Percentile(before, 0.5):F3} ms); 100 of bob's stores shared with the user p50 {Percentile(sharedPath, 0.5):F3} ms (added {Percentile(sharedPath, 0.5) - Percentile(before, 0.5):F3} ms)");
            await app.StopAsync();
            return 0;
        }
        finally
        {
            if (database is not null)
            {
                NpgsqlConnection.ClearAllPools();
                await using var admin = new NpgsqlConnection(pg);
                await admin.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
            }

            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<string> ProjectOfAsync(IServiceProvider services, string storeId, bool postgres)
    {
        await using DbConnection connection = postgres
            ? await services.GetRequiredService<PostgresDatabase>().OpenAsync(CancellationToken.None)
            : await services.GetRequiredService<SqliteDatabase>().OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT project FROM vector_stores WHERE id = @id";
        Add(command, "@id", storeId);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<List<double>> TimeAsync(int iterations, Func<int, Task> call)
    {
        for (var i = 0; i < Math.Min(100, iterations); i++)
        {
            await call(i);
        }

        var times = new List<double>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call(i);
            times.Add(Ms(start, Stopwatch.GetTimestamp()));
        }

        return times;
    }

    /// <param name="alias">Qualifies the sort columns ("" for a compound statement, whose ORDER BY names result columns).</param>
    private static Task<List<double>> TimeListAsync(Func<Task<DbConnection>> open, string select, string alias, string project, int iterations) =>
        TimeAsync(iterations, async _ =>
        {
            await using var connection = await open();
            await using var command = connection.CreateCommand();
            command.CommandText = select + $" ORDER BY {alias}created_at DESC, {alias}id DESC LIMIT 101";
            Add(command, "@project", project);
            Add(command, "@owner", "alice");
            await using var reader = await command.ExecuteReaderAsync();
            var rows = 0;
            while (await reader.ReadAsync())
            {
                rows++;
            }

            if (rows != 101)
            {
                throw new InvalidOperationException($"Expected 101 rows, got {rows}.");
            }
        });

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
