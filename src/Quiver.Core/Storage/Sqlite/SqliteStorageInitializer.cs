using Microsoft.Extensions.Hosting;
using Quiver.Core.Files;
using Quiver.Core.Hosting;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>
/// Applies migrations and clears crash leftovers before the server accepts requests
/// (hosted services start before Kestrel listens), and answers the storage readiness probe.
/// </summary>
internal sealed class SqliteStorageInitializer(SqliteDatabase database, FileSystemBlobStore blobs, ReadinessState readiness)
    : IHostedService, IStorageHealth, IStorageMigrator
{
    public const string Component = "storage";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Require(Component);
        await MigrateAsync(cancellationToken);
        blobs.SweepStaging();
        readiness.Set(Component, true);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task MigrateAsync(CancellationToken ct) => SqliteMigrations.MigrateAsync(database, ct);

    /// <inheritdoc/>
    public async Task<string?> CheckAsync(CancellationToken ct)
    {
        try
        {
            await using var connection = await database.OpenAsync(ct);
            var version = await SqliteMigrations.GetVersionAsync(connection, null, ct);
            return version == SqliteMigrations.LatestVersion ? null : "schema not migrated";
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return "database unavailable";
        }
    }
}
