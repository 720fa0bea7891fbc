using System.Data.Common;
using Quiver.Core.Ids;
using Quiver.Core.Keys;

namespace Quiver.Core.Storage.Relational;

/// <inheritdoc/>
internal sealed class SqlApiKeyStore(SqlBackend database, IIdGenerator ids, TimeProvider time) : IApiKeyStore
{
    private const string Columns = "id, name, project, is_admin, created_at, revoked_at, rate_limit, permissions";

    /// <inheritdoc/>
    public async Task<(ApiKeyRecord Key, string Secret)> CreateAsync(NewApiKey request, CancellationToken ct)
    {
        var secret = ApiKeySecrets.NewSecret();
        var key = new ApiKeyRecord(
            ids.NewId(IdPrefixes.ApiKey), request.Name, request.Project, request.IsAdmin, time.GetUtcNow().ToUnixTimeSeconds(), null,
            request.RateLimit ?? RateLimitPolicy.None, request.Permissions ?? []);
        await database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command(
                    """
                    INSERT INTO api_keys (id, name, project, key_hash, is_admin, created_at, rate_limit, permissions)
                    VALUES (@id, @name, @project, @hash, @admin, @created, @limit, @permissions)
                    """,
                    transaction)
                .With("@id", key.Id).With("@name", key.Name).With("@project", key.Project)
                .With("@hash", ApiKeySecrets.Hash(secret)).With("@admin", key.IsAdmin ? 1 : 0).With("@created", key.CreatedAt)
                .With("@limit", key.Limits.ToString()).With("@permissions", KeyPermissions.ToStored(key.Grants))
                .ExecuteNonQueryAsync(ct);
        }, ct);
        return (key, secret);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command($"SELECT {Columns} FROM api_keys ORDER BY created_at DESC, id DESC");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var keys = new List<ApiKeyRecord>();
        while (await reader.ReadAsync(ct))
        {
            keys.Add(Map(reader));
        }

        return keys;
    }

    /// <inheritdoc/>
    public async Task<ApiKeyRecord?> UpdateAsync(string id, RateLimitPolicy? rateLimit, IReadOnlyList<string>? permissions, CancellationToken ct)
    {
        var changed = await database.WriteAsync(async (connection, transaction) =>
            await connection.Command(
                    """
                    UPDATE api_keys SET rate_limit = COALESCE(@limit, rate_limit), permissions = COALESCE(@permissions, permissions)
                    WHERE id = @id AND revoked_at IS NULL
                    """, transaction)
                .WithText("@limit", rateLimit?.ToString())
                .WithText("@permissions", permissions is null ? null : KeyPermissions.ToStored(permissions))
                .With("@id", id)
                .ExecuteNonQueryAsync(ct) == 1, ct);
        return changed ? await FindByIdAsync(id, ct) : null;
    }

    /// <inheritdoc/>
    public Task<bool> RevokeAsync(string id, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command("UPDATE api_keys SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", transaction)
                .With("@now", time.GetUtcNow().ToUnixTimeSeconds()).With("@id", id)
                .ExecuteNonQueryAsync(ct) == 1, ct);

    /// <inheritdoc/>
    public async Task<ApiKeyRecord?> FindActiveByHashAsync(string hash, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command($"SELECT {Columns} FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL")
            .With("@hash", hash);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Map(reader) : null;
    }

    /// <inheritdoc/>
    public async Task<ApiKeyRecord?> FindByIdAsync(string id, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command($"SELECT {Columns} FROM api_keys WHERE id = @id").With("@id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Map(reader) : null;
    }

    /// <inheritdoc/>
    public async Task<long> CountAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command("SELECT COUNT(*) FROM api_keys");
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static ApiKeyRecord Map(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3) != 0,
        reader.GetInt64(4), reader.GetNullableInt64(5),
        RateLimitPolicy.FromStored(reader.GetString(6)), KeyPermissions.FromStored(reader.GetString(7)));
}
