using Quiver.Core.Idempotency;
using Quiver.Core.Tenancy;

namespace Quiver.Core.Storage.Relational;

/// <inheritdoc/>
internal sealed class SqlIdempotencyStore(SqlBackend database) : IIdempotencyStore
{
    /// <inheritdoc/>
    public async Task<IdempotencyRecord?> FindAsync(Principal principal, string scope, string key, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command(
                "SELECT request_hash, object_id FROM idempotency_keys WHERE project = @project AND owner = @owner AND scope = @scope AND key = @key")
            .With("@project", principal.Project).With("@owner", principal.User).With("@scope", scope).With("@key", key);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new IdempotencyRecord(reader.GetString(0), reader.GetString(1)) : null;
    }

    /// <inheritdoc/>
    public Task RecordAsync(Principal principal, string scope, string key, IdempotencyRecord record, long now, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command(
                    """
                    INSERT INTO idempotency_keys (project, owner, scope, key, request_hash, object_id, created_at)
                    VALUES (@project, @owner, @scope, @key, @hash, @object, @now) ON CONFLICT DO NOTHING
                    """, transaction)
                .With("@project", principal.Project).With("@owner", principal.User).With("@scope", scope).With("@key", key)
                .With("@hash", record.RequestHash).With("@object", record.ObjectId).With("@now", now)
                .ExecuteNonQueryAsync(ct), ct);
}
