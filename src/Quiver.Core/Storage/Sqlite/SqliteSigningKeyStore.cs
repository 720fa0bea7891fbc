using Quiver.Core.Keys;
using Quiver.Core.Storage.Relational;

namespace Quiver.Core.Storage.Sqlite;

/// <inheritdoc/>
internal sealed class SqliteSigningKeyStore(SqliteDatabase database) : ISigningKeyStore
{
    /// <inheritdoc/>
    public async Task<IReadOnlyList<SigningKeyRecord>> ListAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command(
            "SELECT kid, algorithm, private_key, created_at, retired_at FROM signing_keys ORDER BY created_at DESC, retired_at IS NULL DESC, kid DESC");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var keys = new List<SigningKeyRecord>();
        while (await reader.ReadAsync(ct))
        {
            keys.Add(new SigningKeyRecord(reader.GetString(0), reader.GetString(1), (byte[])reader.GetValue(2), reader.GetInt64(3), reader.GetNullableInt64(4)));
        }

        return keys;
    }

    /// <inheritdoc/>
    public Task<bool> TryAddFirstAsync(SigningKeyRecord key, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command(
                    """
                    INSERT INTO signing_keys (kid, algorithm, private_key, created_at)
                    SELECT @kid, @alg, @key, @created WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)
                    """, transaction)
                .With("@kid", key.Kid).With("@alg", key.Algorithm).With("@key", key.PrivateKey).With("@created", key.CreatedAt)
                .ExecuteNonQueryAsync(ct) == 1, ct);

    /// <inheritdoc/>
    public Task RotateAsync(SigningKeyRecord key, long now, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command("UPDATE signing_keys SET retired_at = @now WHERE retired_at IS NULL", transaction)
                .With("@now", now).ExecuteNonQueryAsync(ct);
            await connection.Command(
                    "INSERT INTO signing_keys (kid, algorithm, private_key, created_at) VALUES (@kid, @alg, @key, @created)", transaction)
                .With("@kid", key.Kid).With("@alg", key.Algorithm).With("@key", key.PrivateKey).With("@created", key.CreatedAt)
                .ExecuteNonQueryAsync(ct);
        }, ct);

    /// <inheritdoc/>
    public Task<int> PruneAsync(long retiredBefore, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < @before", transaction)
                .With("@before", retiredBefore).ExecuteNonQueryAsync(ct), ct);
}
