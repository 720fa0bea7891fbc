using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Quiver.Core.Files;
using Quiver.Core.Ids;
using Quiver.Core.Keys;
using Quiver.Core.Storage;
using Quiver.Core.Storage.Sqlite;

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

        return builder;
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
        services.TryAddSingleton<SqliteStorageInitializer>();
        services.TryAddSingleton<IStorageHealth>(sp => sp.GetRequiredService<SqliteStorageInitializer>());
        services.AddHostedService(sp => sp.GetRequiredService<SqliteStorageInitializer>());
    }
}
