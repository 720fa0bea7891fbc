using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Quiver.Core.Chunking;
using Quiver.Core.Embeddings;
using Quiver.Core.Extraction;
using Quiver.Core.Files;
using Quiver.Core.Ingestion;
using Quiver.Core.Ids;
using Quiver.Core.Keys;
using Quiver.Core.Search;
using Quiver.Core.Storage;
using Quiver.Core.Storage.Sqlite;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Hosting;

/// <summary>Registers Quiver's domain services and the configured storage backend.</summary>
public static class QuiverCoreRegistration
{
    /// <summary>
    /// Adds the core services. Storage is chosen by <c>Quiver:Storage:Provider</c>
    /// (<c>sqlite</c>, the default, keeps everything under <c>Quiver:DataDir</c>).
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

        var provider = builder.Configuration["Quiver:Storage:Provider"] ?? "sqlite";
        switch (provider.ToLowerInvariant())
        {
            case "sqlite":
                AddSqlite(services);
                break;
            default:
                throw new InvalidOperationException(
                    $"Quiver:Storage:Provider is '{provider}'; supported values: sqlite.");
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
        services.TryAddSingleton<IDocumentExtractor, DocumentExtractor>();
        services.TryAddSingleton(TextChunker.Instance);
        services.TryAddSingleton<IngestionSignals>();
        services.TryAddSingleton<IngestionPipeline>();
        services.AddHostedService<IngestionWorker>();
        services.AddSingleton<IngestionSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestionSweeper>());
    }

    private static void AddSqlite(IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var dataDir = sp.GetRequiredService<IOptions<QuiverOptions>>().Value.FullDataDir;
            Directory.CreateDirectory(dataDir);
            return new SqliteDatabase(Path.Combine(dataDir, "quiver.db"));
        });
        services.TryAddSingleton(sp => new FileSystemBlobStore(sp.GetRequiredService<IOptions<QuiverOptions>>().Value.FullDataDir));
        services.TryAddSingleton<IBlobStore>(sp => sp.GetRequiredService<FileSystemBlobStore>());
        services.TryAddSingleton<IFileRepository, SqliteFileRepository>();
        services.TryAddSingleton<IApiKeyStore, SqliteApiKeyStore>();
        services.TryAddSingleton<IVectorStoreRepository, SqliteVectorStoreRepository>();
        services.TryAddSingleton<IIngestionJobStore, SqliteIngestionJobStore>();
        services.TryAddSingleton<IChunkSearchStore, SqliteChunkSearchStore>();
        services.TryAddSingleton<SqliteStorageInitializer>();
        services.TryAddSingleton<IStorageHealth>(sp => sp.GetRequiredService<SqliteStorageInitializer>());
        services.AddHostedService(sp => sp.GetRequiredService<SqliteStorageInitializer>());
    }
}
