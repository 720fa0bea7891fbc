using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quiver.Core.Files;
using Quiver.Core.Hosting;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// Applies migrations (advisory-locked, so any number of processes may start at once), builds the lexical
/// postings of chunks stored before they existed, and clears
/// crash leftovers before the server accepts requests, and answers the storage readiness probe.
/// </summary>
internal sealed class PostgresStorageInitializer(PostgresDatabase database, IBlobStore blobs, ReadinessState readiness, ILogger<PostgresStorageInitializer> logger)
    : IHostedService, IStorageHealth, IStorageMigrator
{
    public const string Component = "storage";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Require(Component);
        await MigrateAsync(cancellationToken);
        await PostgresLexicalPostings.BackfillAsync(database, logger, cancellationToken);
        switch (blobs)
        {
            case PostgresBlobStore postgresBlobs:
                await postgresBlobs.SweepStagingAsync(cancellationToken);
                break;
            case FileSystemBlobStore fileBlobs:
                // A shared volume: only this process's own leftovers can be told apart safely, so
                // the sweep is by age (another process may be staging right now).
                fileBlobs.SweepStaging(TimeSpan.FromDays(1));
                break;
        }

        readiness.Set(Component, true);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task MigrateAsync(CancellationToken ct) => PostgresMigrations.MigrateAsync(database.ConnectionString, ct);

    /// <inheritdoc/>
    public async Task<string?> CheckAsync(CancellationToken ct)
    {
        try
        {
            await using var connection = await database.OpenAsync(ct);
            var version = await PostgresMigrations.GetVersionAsync(connection, null, ct);
            return version == PostgresMigrations.LatestVersion ? null : "schema not migrated";
        }
        catch (PostgresException)
        {
            return "schema not migrated";
        }
        catch (NpgsqlException)
        {
            return "database unavailable";
        }
    }
}
