using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Quiver.Core.Access;
using Quiver.Core.Chunking;
using Quiver.Core.Embeddings;
using Quiver.Core.Extraction;
using Quiver.Core.Files;
using Quiver.Core.Idempotency;
using Quiver.Core.Ingestion;
using Quiver.Core.Ids;
using Quiver.Core.Keys;
using Quiver.Core.Search;
using Quiver.Core.Storage;
using Quiver.Core.Storage.Postgres;
using Quiver.Core.Storage.Relational;
using Quiver.Core.Storage.Sqlite;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Hosting;

/// <summary>Registers Quiver's domain services and the configured storage backend.</summary>
public static class QuiverCoreRegistration
{
    /// <summary>
    /// Adds the core services. Storage is chosen by <c>Quiver:Storage:Provider</c>:
    /// <c>sqlite</c> (the default) keeps everything under <c>Quiver:DataDir</c>; <c>postgres</c>
    /// uses the database of <c>ConnectionStrings:Quiver</c>, shared by any number of processes.
    /// File bytes go where <c>Quiver:Storage:Blobs</c> says: <c>filesystem</c> (directory
    /// <c>Quiver:Storage:BlobPath</c>, default the data directory; a shared volume for several
    /// processes) or <c>postgres</c> (the database itself; the default with the postgres provider).
    /// </summary>
    public static IHostApplicationBuilder AddQuiverCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<QuiverOptions>()
            .BindConfiguration(QuiverOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDir), "Quiver:DataDir must not be empty.")
            .Validate(o => o.MaxUploadBytes > 0, "Quiver:MaxUploadBytes must be a positive number of bytes.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IIdGenerator, RandomIdGenerator>();
        services.TryAddSingleton<ReadinessState>();
        services.TryAddSingleton<FileService>();
        services.TryAddSingleton<VectorStoreService>();
        services.TryAddSingleton<VectorStoreSearchService>();
        services.TryAddSingleton<AccessChecker>();
        services.TryAddSingleton<AuthorizationService>();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Issuer), "Quiver:Auth:Issuer must not be empty.")
            .Validate(o => o.Audiences.All(a => !string.IsNullOrWhiteSpace(a)), "Quiver:Auth:Audiences must not contain empty values.")
            .Validate(o => o.ClockSkewSeconds is >= 0 and <= 300, "Quiver:Auth:ClockSkewSeconds must be between 0 and 300.")
            .ValidateOnStart();
        services.TryAddSingleton<SigningKeyRing>();
        services.TryAddSingleton<AccessTokenService>();

        var provider = builder.Configuration["Quiver:Storage:Provider"] ?? "sqlite";
        switch (provider.ToLowerInvariant())
        {
            case "sqlite":
                AddSqlite(services, builder.Configuration);
                break;
            case "postgres":
            case "postgresql":
                AddPostgres(services, builder.Configuration);
                break;
            default:
                throw new InvalidOperationException(
                    $"Quiver:Storage:Provider is '{provider}'; supported values: sqlite, postgres.");
        }

        // After storage: hosted services start in registration order, and workers need the schema.
        services.AddQuiverEmbeddings(builder.Configuration);
        AddIngestion(services);

        return builder;
    }

    private static void AddIngestion(IServiceCollection services)
    {
        services.AddOptions<IngestionOptions>().BindConfiguration(IngestionOptions.Section)
            .Validate(o => o.Workers >= 0, "Quiver:Ingestion:Workers must be 0 (one per processor) or more.")
            .Validate(o => o.LeaseSeconds >= 3, "Quiver:Ingestion:LeaseSeconds must be at least 3.")
            .Validate(o => o.MaxAttempts >= 1, "Quiver:Ingestion:MaxAttempts must be at least 1.")
            // Task.Delay refuses waits over ~49.7 days; a larger interval would crash the sweeper and stop the host.
            .Validate(o => o.SweepIntervalSeconds <= 2_592_000, "Quiver:Ingestion:SweepIntervalSeconds must be at most 2592000 (30 days).")
            .ValidateOnStart();
        services.AddOptions<ExtractionOptions>().BindConfiguration(ExtractionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.Section)
            .Validate(o => o.HnswMinChunks >= 0, "Quiver:Search:HnswMinChunks must be 0 (HNSW off) or more.")
            .Validate(o => o.PostgresStoreCacheMegabytes >= 0, "Quiver:Search:PostgresStoreCacheMegabytes must be 0 (cache off) or more.")
            .Validate(o => o.HnswSaveIntervalSeconds is >= 1 and <= 86_400, "Quiver:Search:HnswSaveIntervalSeconds must be between 1 and 86400.")
            .ValidateOnStart();
        services.TryAddSingleton<IDocumentExtractor, DocumentExtractor>();
        services.TryAddSingleton(TextChunker.Instance);
        services.TryAddSingleton<IngestionSignals>();
        services.TryAddSingleton<IngestionPipeline>();
        services.AddHostedService<IngestionWorker>();
        services.AddSingleton<IngestionSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestionSweeper>());
        services.TryAddSingleton<StoreActivity>();
        services.AddSingleton<StoreActivityFlusher>();
        services.AddHostedService(sp => sp.GetRequiredService<StoreActivityFlusher>());
        services.AddHostedService<Telemetry.QueueDepthSampler>();
    }

    /// <summary>The blob store the configuration asks for (see <see cref="AddQuiverCore"/>).</summary>
    private static void AddBlobs(IServiceCollection services, IConfiguration configuration, string defaultKind)
    {
        var kind = (configuration["Quiver:Storage:Blobs"] ?? defaultKind).ToLowerInvariant();
        var blobPath = configuration["Quiver:Storage:BlobPath"];
        switch (kind)
        {
            case "filesystem":
                services.TryAddSingleton(sp => new FileSystemBlobStore(
                    string.IsNullOrWhiteSpace(blobPath) ? sp.GetRequiredService<IOptions<QuiverOptions>>().Value.FullDataDir : Path.GetFullPath(blobPath)));
                services.TryAddSingleton<IBlobStore>(sp => sp.GetRequiredService<FileSystemBlobStore>());
                break;
            case "postgres" when defaultKind == "postgres":
                services.TryAddSingleton<PostgresBlobStore>();
                services.TryAddSingleton<IBlobStore>(sp => sp.GetRequiredService<PostgresBlobStore>());
                break;
            case "postgres":
                throw new InvalidOperationException(
                    "Quiver:Storage:Blobs is 'postgres', which needs Quiver:Storage:Provider = postgres.");
            default:
                throw new InvalidOperationException(
                    $"Quiver:Storage:Blobs is '{kind}'; supported values: filesystem, postgres (with Quiver:Storage:Provider = postgres).");
        }
    }

    private static void AddPostgres(IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Quiver");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "Quiver:Storage:Provider is 'postgres' but ConnectionStrings:Quiver is not set " +
                "(environment: ConnectionStrings__Quiver=\"Host=...;Database=...;Username=...;Password=...\").");
        }

        Validate("Quiver", connectionString);

        // LISTEN needs a session of its own; behind PgBouncer in transaction mode, point this one straight at PostgreSQL.
        var listenConnectionString = configuration.GetConnectionString("QuiverListen");
        if (string.IsNullOrWhiteSpace(listenConnectionString))
        {
            listenConnectionString = connectionString;
        }
        else
        {
            Validate("QuiverListen", listenConnectionString);
        }

        services.TryAddSingleton(_ => new PostgresDatabase(connectionString));
        services.TryAddSingleton<PostgresVectorIndexes>();
        services.TryAddSingleton<SqlBackend, PostgresBackend>();
        AddBlobs(services, configuration, "postgres");
        services.TryAddSingleton<IFileRepository, SqlFileRepository>();
        services.TryAddSingleton<IApiKeyStore, SqlApiKeyStore>();
        services.TryAddSingleton<ISigningKeyStore, PostgresSigningKeyStore>();
        services.TryAddSingleton<IRateLimiter, PostgresRateLimiter>();
        services.TryAddSingleton<IVectorStoreRepository, SqlVectorStoreRepository>();
        services.TryAddSingleton<IGrantStore, SqlGrantStore>();
        services.TryAddSingleton<IIngestionJobStore, PostgresIngestionJobStore>();
        services.TryAddSingleton<IChunkSearchStore, PostgresChunkSearchStore>();
        services.TryAddSingleton<IIdempotencyStore, SqlIdempotencyStore>();
        services.TryAddSingleton<PostgresStorageInitializer>();
        services.TryAddSingleton<IStorageHealth>(sp => sp.GetRequiredService<PostgresStorageInitializer>());
        services.TryAddSingleton<IStorageMigrator>(sp => sp.GetRequiredService<PostgresStorageInitializer>());
        services.AddHostedService(sp => sp.GetRequiredService<PostgresStorageInitializer>());
        // Other processes' cancels stop work here at once (SQLite has one process: in-process signals suffice).
        services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<PostgresCancelListener>(sp, listenConnectionString));
        services.AddHostedService(sp => sp.GetRequiredService<PostgresCancelListener>());

        static void Validate(string name, string value)
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(value);
            }
            catch (ArgumentException e)
            {
                throw new InvalidOperationException($"ConnectionStrings:{name} is not a valid PostgreSQL connection string: {e.Message}", e);
            }
        }
    }

    private static void AddSqlite(IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(sp =>
        {
            var dataDir = sp.GetRequiredService<IOptions<QuiverOptions>>().Value.FullDataDir;
            Directory.CreateDirectory(dataDir);
            return new SqliteDatabase(Path.Combine(dataDir, "quiver.db"));
        });
        services.TryAddSingleton<SqlBackend, SqliteBackend>();
        AddBlobs(services, configuration, "filesystem");
        services.TryAddSingleton<IFileRepository, SqlFileRepository>();
        services.TryAddSingleton<IApiKeyStore, SqlApiKeyStore>();
        services.TryAddSingleton<ISigningKeyStore, SqliteSigningKeyStore>();
        services.TryAddSingleton<IRateLimiter, InMemoryRateLimiter>();
        services.TryAddSingleton<IVectorStoreRepository, SqlVectorStoreRepository>();
        services.TryAddSingleton<IGrantStore, SqlGrantStore>();
        services.TryAddSingleton<IIngestionJobStore, SqliteIngestionJobStore>();
        services.TryAddSingleton<IChunkSearchStore, SqliteChunkSearchStore>();
        services.TryAddSingleton<IIdempotencyStore, SqlIdempotencyStore>();
        services.TryAddSingleton<SqliteStorageInitializer>();
        services.TryAddSingleton<IStorageHealth>(sp => sp.GetRequiredService<SqliteStorageInitializer>());
        services.TryAddSingleton<IStorageMigrator>(sp => sp.GetRequiredService<SqliteStorageInitializer>());
        services.AddHostedService(sp => sp.GetRequiredService<SqliteStorageInitializer>());
    }
}
