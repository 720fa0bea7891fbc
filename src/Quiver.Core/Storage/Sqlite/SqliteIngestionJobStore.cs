using Microsoft.Data.Sqlite;
using Quiver.Core.Storage.Relational;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Storage.Sqlite;

/// <inheritdoc/>
internal sealed class SqliteIngestionJobStore(SqliteDatabase database) : IIngestionJobStore
{
    /// <summary>A job is runnable when queued and due, or running with a lapsed lease (its worker died).</summary>
    private const string Runnable = "((j.state = 'queued' AND j.not_before_ms <= @now) OR (j.state = 'running' AND j.lease_until_ms < @now))";

    /// <summary>The fence: the claim is ours and the file row is still at the job's generation, in progress.</summary>
    private const string LiveClaim = """
        EXISTS (SELECT 1 FROM ingestion_jobs j JOIN vector_store_files f
                    ON f.vector_store_id = j.vector_store_id AND f.file_id = j.file_id
                WHERE j.id = @job AND j.lease_owner = @owner AND j.generation = @generation
                  AND f.generation = @generation AND f.status = 'in_progress')
        """;

    /// <summary>Claim turn of each store with runnable work (in-process; only claims write it, under the write lock).</summary>
    private readonly Dictionary<string, long> _lastServed = new(StringComparer.Ordinal);
    private long _turn;

    /// <inheritdoc/>
    public Task<ClaimedJob?> ClaimNextAsync(string owner, long nowMs, long leaseMs, long runDeadlineMs, CancellationToken ct) =>
        database.WriteAsync<ClaimedJob?>(async (connection, transaction) =>
        {
            if (await PickFairAsync(connection, transaction, nowMs, ct) is not { } jobId)
            {
                return null;
            }

            await using var reader = await connection.Command("""
                    UPDATE ingestion_jobs SET state = 'running', lease_owner = @owner, lease_until_ms = @until,
                        attempts = attempts + 1, deadline_ms = @deadline
                    WHERE id = @id
                    RETURNING id, vector_store_id, file_id, generation, attempts, trace_parent
                    """, transaction)
                .With("@owner", owner).With("@until", nowMs + leaseMs).With("@deadline", nowMs + runDeadlineMs).With("@id", jobId)
                .ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var (storeId, fileId, generation, attempts, traceParent) = (reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5));
            await reader.DisposeAsync();

            await using var context = await connection.Command("""
                    SELECT fl.filename, s.embedding_model, f.chunk_max_tokens, f.chunk_overlap_tokens
                    FROM vector_store_files f
                    JOIN vector_stores s ON s.id = f.vector_store_id
                    JOIN files fl ON fl.id = f.file_id
                    WHERE f.vector_store_id = @store AND f.file_id = @file
                    """, transaction).With("@store", storeId).With("@file", fileId).ExecuteReaderAsync(ct);
            if (!await context.ReadAsync(ct))
            {
                // Cannot happen while rows cascade together; drop the orphan rather than loop on it.
                await connection.Command("DELETE FROM ingestion_jobs WHERE id = @id", transaction).With("@id", jobId).ExecuteNonQueryAsync(ct);
                return null;
            }

            return new ClaimedJob(jobId, owner, storeId, fileId, generation, attempts,
                context.GetString(0), context.GetString(1), context.GetInt32(2), context.GetInt32(3), traceParent);
        }, ct);

    /// <summary>
    /// Fairness: each store with runnable work offers its oldest job; the store with the fewest
    /// jobs running now wins, then the store served longest ago (round robin, so a big batch
    /// cannot starve another store even with one worker, when nothing is running between claims),
    /// then the oldest job.
    /// </summary>
    private async Task<long?> PickFairAsync(SqliteConnection connection, SqliteTransaction transaction, long nowMs, CancellationToken ct)
    {
        var candidates = new List<(string Store, long Job, long Running)>();
        await using (var reader = await connection.Command($"""
                SELECT j.vector_store_id, MIN(j.id),
                       (SELECT COUNT(*) FROM ingestion_jobs r
                        WHERE r.vector_store_id = j.vector_store_id AND r.state = 'running' AND r.lease_until_ms >= @now)
                FROM ingestion_jobs j
                WHERE {Runnable}
                GROUP BY j.vector_store_id
                """, transaction).With("@now", nowMs).ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                candidates.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
            }
        }

        if (candidates.Count == 0)
        {
            _lastServed.Clear();
            return null;
        }

        var pick = candidates
            .OrderBy(c => c.Running)
            .ThenBy(c => _lastServed.GetValueOrDefault(c.Store))
            .ThenBy(c => c.Job)
            .First();
        // Forget stores with nothing left to run, so the map stays as small as the queue.
        if (_lastServed.Count > candidates.Count)
        {
            var live = candidates.Select(c => c.Store).ToHashSet(StringComparer.Ordinal);
            foreach (var store in _lastServed.Keys.Where(k => !live.Contains(k)).ToList())
            {
                _lastServed.Remove(store);
            }
        }

        _lastServed[pick.Store] = ++_turn;
        return pick.Job;
    }

    /// <inheritdoc/>
    public Task<bool> ExtendLeaseAsync(ClaimedJob job, long untilMs, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command("""
                    UPDATE ingestion_jobs SET lease_until_ms = @until
                    WHERE id = @job AND lease_owner = @owner AND generation = @generation AND state = 'running'
                    """, transaction)
                .With("@until", untilMs).With("@job", job.JobId).With("@owner", job.Owner).With("@generation", job.Generation)
                .ExecuteNonQueryAsync(ct) == 1, ct);

    /// <inheritdoc/>
    public Task<bool> PublishAsync(ClaimedJob job, IReadOnlyList<ChunkToPublish> chunks, string parsedText, long usageBytes, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            if (!await IsLiveAsync(connection, transaction, job, ct))
            {
                return false;
            }

            // Swap: the previous generation's chunks (if any) leave in the same transaction the new ones arrive.
            await connection.Command("DELETE FROM chunks WHERE vector_store_id = @store AND file_id = @file", transaction)
                .With("@store", job.VectorStoreId).With("@file", job.FileId).ExecuteNonQueryAsync(ct);

            await using (var insert = connection.Command("""
                    INSERT INTO chunks (vector_store_id, file_id, chunk_index, text, token_count, embedding)
                    VALUES (@store, @file, @index, @text, @tokens, @embedding)
                    """, transaction))
            {
                insert.With("@store", job.VectorStoreId).With("@file", job.FileId);
                var index = insert.Parameters.Add("@index", SqliteType.Integer);
                var text = insert.Parameters.Add("@text", SqliteType.Text);
                var tokens = insert.Parameters.Add("@tokens", SqliteType.Integer);
                var embedding = insert.Parameters.Add("@embedding", SqliteType.Blob);
                foreach (var chunk in chunks)
                {
                    index.Value = chunk.Index;
                    text.Value = chunk.Text;
                    tokens.Value = chunk.TokenCount;
                    embedding.Value = VectorBlobs.ToBytes(chunk.Embedding);
                    await insert.ExecuteNonQueryAsync(ct);
                }
            }

            var batchId = await connection.Command("""
                    UPDATE vector_store_files SET status = 'completed', usage_bytes = @usage, parsed_text = @parsed,
                        last_error_code = NULL, last_error_message = NULL
                    WHERE vector_store_id = @store AND file_id = @file
                    RETURNING COALESCE(batch_id, '')
                    """, transaction)
                .With("@usage", usageBytes).With("@parsed", parsedText).With("@store", job.VectorStoreId).With("@file", job.FileId)
                .ExecuteScalarAsync(ct) as string;
            await SqlVectorStoreRepository.SettleMemberAsync(connection, transaction, NullIfEmpty(batchId), job.FileId, VectorStoreFileStatus.Completed, ct);
            await connection.Command("DELETE FROM ingestion_jobs WHERE id = @job", transaction).With("@job", job.JobId).ExecuteNonQueryAsync(ct);
            return true;
        }, ct);

    /// <inheritdoc/>
    public Task<bool> FailAsync(ClaimedJob job, string code, string message, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            if (!await IsLiveAsync(connection, transaction, job, ct))
            {
                return false;
            }

            await FailFileAsync(connection, transaction, job.VectorStoreId, job.FileId, code, message, ct);
            await connection.Command("DELETE FROM ingestion_jobs WHERE id = @job", transaction).With("@job", job.JobId).ExecuteNonQueryAsync(ct);
            return true;
        }, ct);

    /// <summary>Marks a file failed; earlier chunks of a re-attached file go too (a failed file is not searchable).</summary>
    private static async Task FailFileAsync(SqliteConnection connection, SqliteTransaction transaction, string storeId, string fileId, string code, string message, CancellationToken ct)
    {
        await connection.Command("DELETE FROM chunks WHERE vector_store_id = @store AND file_id = @file", transaction)
            .With("@store", storeId).With("@file", fileId).ExecuteNonQueryAsync(ct);
        var batchId = await connection.Command("""
                UPDATE vector_store_files SET status = 'failed', usage_bytes = 0, last_error_code = @code, last_error_message = @message
                WHERE vector_store_id = @store AND file_id = @file
                RETURNING COALESCE(batch_id, '')
                """, transaction)
            .With("@code", code).With("@message", message).With("@store", storeId).With("@file", fileId)
            .ExecuteScalarAsync(ct) as string;
        await SqlVectorStoreRepository.SettleMemberAsync(connection, transaction, NullIfEmpty(batchId), fileId, VectorStoreFileStatus.Failed, ct);
    }

    /// <inheritdoc/>
    public Task RetryLaterAsync(ClaimedJob job, long notBeforeMs, CancellationToken ct) =>
        database.WriteAsync((connection, transaction) => SqlJobClaims.RetryLaterAsync(connection, transaction, job, notBeforeMs, ct), ct);

    /// <inheritdoc/>
    public Task<bool> ReleaseClaimAsync(ClaimedJob job, CancellationToken ct) =>
        database.WriteAsync((connection, transaction) => SqlJobClaims.ReleaseAsync(connection, transaction, job, ct), ct);

    /// <inheritdoc/>
    public Task<int> ReleaseAllClaimsAsync(CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command("UPDATE ingestion_jobs SET state = 'queued', lease_owner = NULL, lease_until_ms = NULL WHERE state = 'running'", transaction)
                .ExecuteNonQueryAsync(ct), ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<(string StoreId, string FileId)>> FailOverdueAsync(long nowMs, string message, CancellationToken ct) =>
        database.WriteAsync<IReadOnlyList<(string, string)>>(async (connection, transaction) =>
        {
            var overdue = new List<(long Job, string Store, string File)>();
            await using (var reader = await connection.Command(
                    "SELECT id, vector_store_id, file_id FROM ingestion_jobs WHERE state = 'running' AND deadline_ms < @now", transaction)
                .With("@now", nowMs).ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    overdue.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
                }
            }

            foreach (var (job, store, file) in overdue)
            {
                await FailFileAsync(connection, transaction, store, file, IngestionErrorCodes.ServerError, message, ct);
                await connection.Command("DELETE FROM ingestion_jobs WHERE id = @job", transaction).With("@job", job).ExecuteNonQueryAsync(ct);
            }

            return [.. overdue.Select(o => (o.Store, o.File))];
        }, ct);

    /// <inheritdoc/>
    public Task<int> MarkExpiredStoresAsync(long now, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command("UPDATE vector_stores SET expired = 1 WHERE expired = 0 AND expires_at IS NOT NULL AND expires_at <= @now", transaction)
                .With("@now", now).ExecuteNonQueryAsync(ct), ct);

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, long>> CountByStateAsync(CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command(JobStateCounts.Sql);
        return await JobStateCounts.ReadAsync(command, ct);
    }

    /// <inheritdoc/>
    public async Task<long?> NextWakeDelayAsync(long nowMs, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var next = await connection.Command("""
                SELECT MIN(CASE WHEN state = 'queued' THEN not_before_ms ELSE lease_until_ms END) FROM ingestion_jobs
                """).ExecuteScalarAsync(ct);
        return next is long at ? Math.Max(0, at - nowMs) : null;
    }

    private static async Task<bool> IsLiveAsync(SqliteConnection connection, SqliteTransaction transaction, ClaimedJob job, CancellationToken ct) =>
        await connection.Command($"SELECT {LiveClaim}", transaction)
            .With("@job", job.JobId).With("@owner", job.Owner).With("@generation", job.Generation)
            .ExecuteScalarAsync(ct) is 1L;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
