using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Quiver.Core.Search;
using Quiver.Core.Storage.Relational;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// The job queue shared by every Quiver process on the database. Claims lock the chosen job
/// row with <c>FOR UPDATE SKIP LOCKED</c>, so concurrent claimers never wait on or take the same
/// job. Publication and failure lock the store-file row and then the job row (the order every
/// writer uses) and check the fence (owner, generation, status) on what they locked.
/// </summary>
internal sealed class PostgresIngestionJobStore(PostgresDatabase database, PostgresVectorIndexes indexes, TimeProvider time) : IIngestionJobStore
{
    private const int InsertBatchRows = 200;

    /// <summary>A job is runnable when queued and due, or running with a lapsed lease (its worker died).</summary>
    private const string Runnable = "((j.state = 'queued' AND j.not_before_ms <= @now) OR (j.state = 'running' AND j.lease_until_ms < @now))";

    /// <inheritdoc/>
    public Task<ClaimedJob?> ClaimNextAsync(string owner, long nowMs, long leaseMs, long runDeadlineMs, CancellationToken ct) =>
        database.WriteAsync<ClaimedJob?>(async (connection, transaction) =>
        {
            // Fairness: among runnable jobs, prefer the store with the fewest jobs running now (in any
            // process), then the store served longest ago (round robin, so a big batch cannot starve
            // another store even with one worker, when nothing runs between claims), then the oldest
            // job. Rows another claimer holds are skipped, not waited for. Running jobs are counted
            // once per store and hash-joined: a correlated count per queued row cost ~50 ms per claim
            // with 10,000 jobs queued (backends benchmark).
            var id = await connection.Command($"""
                    WITH running AS (
                        SELECT vector_store_id, COUNT(*) AS n FROM ingestion_jobs
                        WHERE state = 'running' AND lease_until_ms >= @now GROUP BY vector_store_id)
                    SELECT j.id FROM ingestion_jobs j
                    LEFT JOIN running r ON r.vector_store_id = j.vector_store_id
                    LEFT JOIN ingestion_store_turns t ON t.vector_store_id = j.vector_store_id
                    WHERE {Runnable}
                    ORDER BY COALESCE(r.n, 0), COALESCE(t.turn, 0), j.id
                    LIMIT 1
                    FOR UPDATE OF j SKIP LOCKED
                    """, transaction).With("@now", nowMs).ExecuteScalarAsync(ct);
            if (id is not long jobId)
            {
                return null;
            }

            string storeId, fileId;
            long generation;
            int attempts;
            string? traceParent;
            await using (var reader = await connection.Command("""
                    UPDATE ingestion_jobs SET state = 'running', lease_owner = @owner, lease_until_ms = @until,
                        attempts = attempts + 1, deadline_ms = @deadline
                    WHERE id = @id
                    RETURNING id, vector_store_id, file_id, generation, attempts, trace_parent
                    """, transaction)
                .With("@owner", owner).With("@until", nowMs + leaseMs).With("@deadline", nowMs + runDeadlineMs).With("@id", jobId)
                .ExecuteReaderAsync(ct))
            {
                await reader.ReadAsync(ct);
                (storeId, fileId, generation, attempts, traceParent) = (reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5));
            }

            await connection.Command("""
                    INSERT INTO ingestion_store_turns (vector_store_id, turn) VALUES (@store, nextval('ingestion_claim_turns'))
                    ON CONFLICT (vector_store_id) DO UPDATE SET turn = EXCLUDED.turn
                    """, transaction).With("@store", storeId).ExecuteNonQueryAsync(ct);

            await using var context = await connection.Command("""
                    SELECT fl.filename, s.embedding_model, f.chunk_max_tokens, f.chunk_overlap_tokens
                    FROM vector_store_files f
                    JOIN vector_stores s ON s.id = f.vector_store_id
                    JOIN files fl ON fl.id = f.file_id
                    WHERE f.vector_store_id = @store AND f.file_id = @file
                    """, transaction).With("@store", storeId).With("@file", fileId).ExecuteReaderAsync(ct);
            if (!await context.ReadAsync(ct))
            {
                await context.DisposeAsync();
                // Cannot happen while rows cascade together; drop the orphan rather than loop on it.
                await connection.Command("DELETE FROM ingestion_jobs WHERE id = @id", transaction).With("@id", jobId).ExecuteNonQueryAsync(ct);
                return null;
            }

            return new ClaimedJob(jobId, owner, storeId, fileId, generation, attempts,
                context.GetString(0), context.GetString(1), context.GetInt32(2), context.GetInt32(3), traceParent);
        }, ct);

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
    public async Task<bool> PublishAsync(ClaimedJob job, IReadOnlyList<ChunkToPublish> chunks, string parsedText, long usageBytes, CancellationToken ct)
    {
        var dims = chunks.Count > 0 ? chunks[0].Embedding.Length : 0;
        await indexes.EnsureAsync(dims, ct);
        // Lexical analysis is CPU work: done before the transaction, which then only writes.
        var analyzed = Fts5Analyzer.Shared.Analyze([.. chunks.Select(c => c.Text)]);
        return await database.WriteAsync(async (connection, transaction) =>
        {
            var batchId = await LockLiveAsync(connection, transaction, job, ct);
            if (batchId is null)
            {
                return false;
            }

            // Swap: the previous generation's chunks (if any) leave in the same transaction the new ones arrive.
            await connection.Command("DELETE FROM chunks WHERE vector_store_id = @store AND file_id = @file", transaction)
                .With("@store", job.VectorStoreId).With("@file", job.FileId).ExecuteNonQueryAsync(ct);
            var ids = await InsertChunksAsync(connection, transaction, job, chunks, analyzed, ct);
            await PostgresLexicalPostings.InsertAsync(connection, transaction, job.VectorStoreId, job.FileId, ids, analyzed, ct);

            await connection.Command("""
                    UPDATE vector_store_files SET status = 'completed', usage_bytes = @usage, parsed_text = @parsed,
                        last_error_code = NULL, last_error_message = NULL
                    WHERE vector_store_id = @store AND file_id = @file
                    """, transaction)
                .With("@usage", usageBytes).With("@parsed", parsedText).With("@store", job.VectorStoreId).With("@file", job.FileId)
                .ExecuteNonQueryAsync(ct);
            await SqlVectorStoreRepository.SettleMemberAsync(connection, transaction, NullIfEmpty(batchId), job.FileId, VectorStoreFileStatus.Completed, ct);
            await connection.Command("DELETE FROM ingestion_jobs WHERE id = @job", transaction).With("@job", job.JobId).ExecuteNonQueryAsync(ct);
            return true;
        }, ct);
    }

    /// <summary>
    /// Inserts the chunks in multi-statement batches (one round trip per <see cref="InsertBatchRows"/> rows), then their
    /// vectors, and returns the chunk ids in order.
    /// </summary>
    private static async Task<long[]> InsertChunksAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ClaimedJob job, IReadOnlyList<ChunkToPublish> chunks,
        IReadOnlyList<AnalyzedText> analyzed, CancellationToken ct)
    {
        var ids = new long[chunks.Count];
        for (var start = 0; start < chunks.Count; start += InsertBatchRows)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            for (var i = start; i < Math.Min(chunks.Count, start + InsertBatchRows); i++)
            {
                var chunk = chunks[i];
                var command = new NpgsqlBatchCommand("""
                    INSERT INTO chunks (vector_store_id, file_id, chunk_index, text, token_count, lexical_length)
                    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
                    """);
                command.Parameters.Add(new NpgsqlParameter { Value = job.VectorStoreId, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = job.FileId, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = chunk.Index, NpgsqlDbType = NpgsqlDbType.Integer });
                command.Parameters.Add(new NpgsqlParameter { Value = chunk.Text, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = chunk.TokenCount, NpgsqlDbType = NpgsqlDbType.Integer });
                command.Parameters.Add(new NpgsqlParameter { Value = analyzed[i].Length, NpgsqlDbType = NpgsqlDbType.Integer });
                batch.BatchCommands.Add(command);
            }

            await using var reader = await batch.ExecuteReaderAsync(ct);
            var row = start;
            do
            {
                while (await reader.ReadAsync(ct))
                {
                    ids[row++] = reader.GetInt64(0);
                }
            }
            while (await reader.NextResultAsync(ct));
        }

        // The vectors in their own narrow table, streamed with binary COPY.
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY chunk_vectors (chunk_id, vector_store_id, file_id, dims, embedding) FROM STDIN (FORMAT BINARY)", ct))
        {
            for (var i = 0; i < chunks.Count; i++)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(ids[i], NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(job.VectorStoreId, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(job.FileId, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(chunks[i].Embedding.Length, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(new Vector(chunks[i].Embedding), ct);
            }

            await copy.CompleteAsync(ct);
        }

        return ids;
    }

    /// <inheritdoc/>
    public Task<bool> FailAsync(ClaimedJob job, string code, string message, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var batchId = await LockLiveAsync(connection, transaction, job, ct);
            if (batchId is null)
            {
                return false;
            }

            await FailFileAsync(connection, transaction, job.VectorStoreId, job.FileId, NullIfEmpty(batchId), code, message, ct);
            await connection.Command("DELETE FROM ingestion_jobs WHERE id = @job", transaction).With("@job", job.JobId).ExecuteNonQueryAsync(ct);
            return true;
        }, ct);

    /// <summary>Marks a file failed; earlier chunks of a re-attached file go too (a failed file is not searchable).</summary>
    private static async Task FailFileAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string storeId, string fileId, string? batchId, string code, string message, CancellationToken ct)
    {
        await connection.Command("DELETE FROM chunks WHERE vector_store_id = @store AND file_id = @file", transaction)
            .With("@store", storeId).With("@file", fileId).ExecuteNonQueryAsync(ct);
        await connection.Command("""
                UPDATE vector_store_files SET status = 'failed', usage_bytes = 0, last_error_code = @code, last_error_message = @message
                WHERE vector_store_id = @store AND file_id = @file
                """, transaction)
            .With("@code", code).With("@message", message).With("@store", storeId).With("@file", fileId)
            .ExecuteNonQueryAsync(ct);
        await SqlVectorStoreRepository.SettleMemberAsync(connection, transaction, batchId, fileId, VectorStoreFileStatus.Failed, ct);
    }

    /// <inheritdoc/>
    public Task RetryLaterAsync(ClaimedJob job, long notBeforeMs, CancellationToken ct) =>
        database.WriteAsync((connection, transaction) => SqlJobClaims.RetryLaterAsync(connection, transaction, job, notBeforeMs, ct), ct);

    /// <inheritdoc/>
    public Task<bool> ReleaseClaimAsync(ClaimedJob job, CancellationToken ct) =>
        database.WriteAsync((connection, transaction) => SqlJobClaims.ReleaseAsync(connection, transaction, job, ct), ct);

    /// <summary>
    /// Several processes share this queue, so a starting process cannot tell a claim of its own
    /// previous run from a live claim of another process: only claims whose lease has already
    /// lapsed are released (they were claimable anyway). Claims of a crashed previous run become
    /// claimable when their lease runs out (at most <c>Quiver:Ingestion:LeaseSeconds</c>).
    /// </summary>
    public Task<int> ReleaseAllClaimsAsync(CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command("""
                    UPDATE ingestion_jobs SET state = 'queued', lease_owner = NULL, lease_until_ms = NULL
                    WHERE state = 'running' AND lease_until_ms < @now
                    """, transaction)
                .With("@now", time.GetUtcNow().ToUnixTimeMilliseconds()).ExecuteNonQueryAsync(ct), ct);

    /// <inheritdoc/>
    public Task<IReadOnlyList<(string StoreId, string FileId)>> FailOverdueAsync(long nowMs, string message, CancellationToken ct) =>
        database.WriteAsync<IReadOnlyList<(string, string)>>(async (connection, transaction) =>
        {
            var candidates = new List<(long Job, string Store, string File)>();
            await using (var reader = await connection.Command(
                    "SELECT id, vector_store_id, file_id FROM ingestion_jobs WHERE state = 'running' AND deadline_ms < @now ORDER BY id", transaction)
                .With("@now", nowMs).ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    candidates.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
                }
            }

            var failed = new List<(string, string)>();
            foreach (var (job, store, file) in candidates)
            {
                // Same lock order as publication (file row, then job), then re-check on the locked rows.
                var batchId = await connection.Command(
                        "SELECT COALESCE(batch_id, '') FROM vector_store_files WHERE vector_store_id = @store AND file_id = @file FOR UPDATE", transaction)
                    .With("@store", store).With("@file", file).ExecuteScalarAsync(ct) as string;
                var stillOverdue = await connection.Command(
                        "SELECT 1 FROM ingestion_jobs WHERE id = @job AND state = 'running' AND deadline_ms < @now FOR UPDATE", transaction)
                    .With("@job", job).With("@now", nowMs).ExecuteScalarAsync(ct) is not null;
                if (batchId is null || !stillOverdue)
                {
                    continue;
                }

                await FailFileAsync(connection, transaction, store, file, NullIfEmpty(batchId), IngestionErrorCodes.ServerError, message, ct);
                // The overdue job may be running in another process: it is told to stop when this commits.
                await connection.Command(PostgresCancelNotifications.DeleteJobs("id = @job"), transaction).With("@job", job).ExecuteNonQueryAsync(ct);
                failed.Add((store, file));
            }

            return failed;
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
        await using var command = connection.Command("""
                SELECT MIN(CASE WHEN state = 'queued' THEN not_before_ms ELSE lease_until_ms END) FROM ingestion_jobs
                """);
        return await command.ExecuteScalarAsync(ct) is long at ? Math.Max(0, at - nowMs) : null;
    }

    /// <summary>
    /// The fence, on locked rows: the store-file row (locked first) is at the job's generation and
    /// in progress, and the job row (locked second) is still this claim. Returns the row's batch id
    /// ("" for none), or null when the claim is no longer live.
    /// </summary>
    private static async Task<string?> LockLiveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ClaimedJob job, CancellationToken ct)
    {
        // KEY SHARE on the store first: chunk inserts need it anyway (foreign key), and taking it
        // before the file row keeps the lock order store -> file row -> job of every other writer.
        if (await connection.Command("SELECT 1 FROM vector_stores WHERE id = @store FOR KEY SHARE", transaction)
                .With("@store", job.VectorStoreId).ExecuteScalarAsync(ct) is null)
        {
            return null;
        }

        var batchId = await connection.Command("""
                SELECT COALESCE(batch_id, '') FROM vector_store_files
                WHERE vector_store_id = @store AND file_id = @file AND generation = @generation AND status = 'in_progress'
                FOR UPDATE
                """, transaction)
            .With("@store", job.VectorStoreId).With("@file", job.FileId).With("@generation", job.Generation)
            .ExecuteScalarAsync(ct) as string;
        if (batchId is null)
        {
            return null;
        }

        var ours = await connection.Command(
                "SELECT 1 FROM ingestion_jobs WHERE id = @job AND lease_owner = @owner AND generation = @generation FOR UPDATE", transaction)
            .With("@job", job.JobId).With("@owner", job.Owner).With("@generation", job.Generation)
            .ExecuteScalarAsync(ct) is not null;
        return ours ? batchId : null;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
