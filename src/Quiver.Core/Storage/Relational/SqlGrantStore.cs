using Quiver.Core.Access;

namespace Quiver.Core.Storage.Relational;

/// <inheritdoc/>
internal sealed class SqlGrantStore(SqlBackend database) : IGrantStore
{
    /// <inheritdoc/>
    public async Task<ResourceAccess?> FindAsync(string project, string resourceType, string resourceId, string user, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command(GrantSql.Find(resourceType))
            .With("@project", project).With("@type", resourceType).With("@id", resourceId).With("@user", user);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        return new ResourceAccess(reader.GetString(0), reader.IsDBNull(1) ? null : (ResourceRole)reader.GetInt32(1));
    }

    /// <inheritdoc/>
    public Task GrantAsync(string project, string resourceType, string resourceId, string user, ResourceRole role, long now, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command(
                    """
                    INSERT INTO resource_grants (project, resource_type, resource_id, user_id, role, created_at)
                    VALUES (@project, @type, @id, @user, @role, @now)
                    ON CONFLICT DO NOTHING
                    """, transaction)
                .With("@project", project).With("@type", resourceType).With("@id", resourceId).With("@user", user)
                .With("@role", (int)role).With("@now", now)
                .ExecuteNonQueryAsync(ct);
        }, ct);

    /// <inheritdoc/>
    public Task RevokeAsync(string project, string resourceType, string resourceId, string user, ResourceRole role, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command(
                    "DELETE FROM resource_grants WHERE project = @project AND resource_type = @type AND resource_id = @id AND user_id = @user AND role = @role",
                    transaction)
                .With("@project", project).With("@type", resourceType).With("@id", resourceId).With("@user", user).With("@role", (int)role)
                .ExecuteNonQueryAsync(ct);
        }, ct);

    /// <inheritdoc/>
    public Task DeleteAllAsync(string project, string resourceType, string resourceId, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command("DELETE FROM resource_grants WHERE project = @project AND resource_type = @type AND resource_id = @id", transaction)
                .With("@project", project).With("@type", resourceType).With("@id", resourceId)
                .ExecuteNonQueryAsync(ct);
        }, ct);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> ListDirectAsync(
        string project, string resourceType, string user, ResourceRole minRole, string? after, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.Command(GrantSql.ListDirect(resourceType))
            .With("@project", project).With("@type", resourceType).With("@user", user).With("@role", (int)minRole)
            .With("@after", after ?? "").With("@limit", limit)
            .ReadStringsAsync(ct);
    }
}
