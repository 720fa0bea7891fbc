namespace Quiver.Core.Storage;

/// <summary>
/// Brings the configured database's schema up to date, and nothing else: for tools that run beside a live
/// server (the <c>keys</c> command), which must not run the server's start-up sweeps of staged uploads.
/// Migrations are idempotent and safe to run while a server uses the same database.
/// </summary>
public interface IStorageMigrator
{
    Task MigrateAsync(CancellationToken ct);
}
