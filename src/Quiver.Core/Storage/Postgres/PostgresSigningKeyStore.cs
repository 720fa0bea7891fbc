using Quiver.Core.Keys;
using Quiver.Core.Storage.Relational;

namespace Quiver.Core.Storage.Postgres;

/// <inheritdoc/>
internal sealed class PostgresSigningKeyStore(PostgresDatabase database) : ISigningKeyStore
{
    /// <summary>Advisory lock key serialising rotations across processes ("qvrjwk").</summary>
    private const long RotationLockKey = 0x717672_6A776B;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SigningKeyRecord>> ListAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command(
            "SELECT kid, algorithm, private_key, created_at, retired_at FROM signing_keys ORDER BY created_at DESC, (retired_at IS NULL) DESC, kid DESC");
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
        // The partial unique index admits one active key: a racing process's insert does nothing.
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command(
                    """
                    INSERT INTO signing_keys (kid, algorithm, private_key, created_at) VALUES (@kid, @alg, @key, @created)
                    ON CONFLICT DO NOTHING
                    """, transaction)
                .With("kid", key.Kid).With("alg", key.Algorithm).With("key", key.PrivateKey).With("created", key.CreatedAt)
                .ExecuteNonQueryAsync(ct) == 1, ct);

    /// <inheritdoc/>
    public Task RotateAsync(SigningKeyRecord key, long now, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command("SELECT pg_advisory_xact_lock(@lock)", transaction).With("lock", RotationLockKey).ExecuteNonQueryAsync(ct);
            await connection.Command("UPDATE signing_keys SET retired_at = @now WHERE retired_at IS NULL", transaction)
                .With("now", now).ExecuteNonQueryAsync(ct);
            await connection.Command(
                    "INSERT INTO signing_keys (kid, algorithm, private_key, created_at) VALUES (@kid, @alg, @key, @created)", transaction)
                .With("kid", key.Kid).With("alg", key.Algorithm).With("key", key.PrivateKey).With("created", key.CreatedAt)
                .ExecuteNonQueryAsync(ct);
        }, ct);

    /// <inheritdoc/>
    public Task<int> PruneAsync(long retiredBefore, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < @before", transaction)
                .With("before", retiredBefore).ExecuteNonQueryAsync(ct), ct);
}
