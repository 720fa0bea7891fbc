using System.Collections.Concurrent;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// HNSW indexes over the shared <c>chunk_vectors</c> table. The embedding column is untyped (stores have
/// different dimensions) and HNSW needs a fixed dimension, so there is one partial expression
/// index per dimension in use: <c>USING hnsw ((embedding::vector(N)) vector_cosine_ops) WHERE dims = N</c>.
/// A search must repeat the expression and the predicate to use it:
/// <c>WHERE dims = N AND vector_store_id = @s ORDER BY embedding::vector(N) &lt;=&gt; @q</c>, with
/// <c>SET LOCAL hnsw.iterative_scan = relaxed_order</c> so a small store among large ones still
/// fills k; below a size threshold the search is exact (<c>ix_chunk_vectors_store</c> finds the
/// store's rows; see <c>PostgresChunkSearchStore</c>). Indexes are created when a store with a new dimension is created, under the
/// migration advisory lock so concurrent processes do not race on the name.
/// </summary>
internal sealed class PostgresVectorIndexes(PostgresDatabase database)
{
    private readonly ConcurrentDictionary<int, bool> _ensured = new();

    /// <summary>The index name for a dimension.</summary>
    public static string NameFor(int dims) => $"ix_chunk_vectors_hnsw_{dims}";

    /// <summary>Creates the HNSW index for <paramref name="dims"/> unless this process already knows it exists.</summary>
    public async Task EnsureAsync(int dims, CancellationToken ct)
    {
        if (dims <= 0 || _ensured.ContainsKey(dims))
        {
            return;
        }

        // Cheap look first: CREATE INDEX IF NOT EXISTS would take the table's SHARE lock (and wait for writers) even when the index exists.
        await using (var connection = await database.OpenAsync(ct))
        await using (var exists = connection.Command("SELECT to_regclass(@name) IS NOT NULL").With("@name", NameFor(dims)))
        {
            if (await exists.ExecuteScalarAsync(ct) is true)
            {
                _ensured[dims] = true;
                return;
            }
        }

        await database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command("SELECT pg_advisory_xact_lock(@key)", transaction).With("key", PostgresMigrations.LockKey).ExecuteNonQueryAsync(ct);
            // Building over existing rows is what maintenance_work_mem is for (1 GB: 100k x 384 in ~70 s vs ~490 s at 64 MB).
            await connection.Command("SET LOCAL maintenance_work_mem = '1GB'", transaction).ExecuteNonQueryAsync(ct);
            // dims is an int, so the interpolation cannot inject anything.
            // No command timeout: over existing rows the build takes tens of seconds (28.7 s for 100k),
            // past Npgsql's 30 s default on a busy machine; the caller's token still cancels it.
            await using var build = connection.Command(
                $"CREATE INDEX IF NOT EXISTS {NameFor(dims)} ON chunk_vectors USING hnsw ((embedding::vector({dims})) vector_cosine_ops) WHERE dims = {dims}",
                transaction);
            build.CommandTimeout = 0;
            await build.ExecuteNonQueryAsync(ct);
        }, ct);
        _ensured[dims] = true;
    }
}
