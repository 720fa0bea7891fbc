using System.Data.Common;
using Quiver.Core.Access;
using Quiver.Core.Errors;
using Quiver.Core.Paging;
using Quiver.Core.Tenancy;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Storage.Relational;

/// <summary>
/// Vector stores, their files and batches on either SQL backend: the SQL both speak, the state transitions and
/// the accounting, once. <see cref="SqlBackend"/> supplies the few provider-specific pieces (row locks, job-row
/// deletion with cross-process signals, id lists, index preparation).
/// </summary>
internal sealed class SqlVectorStoreRepository(SqlBackend database) : IVectorStoreRepository
{
    private const string StoreColumns = """
        s.id, s.project, s.owner, s.name, s.description, s.metadata, s.embedding_model, s.embedding_dimensions,
        s.expires_after_days, s.expires_at, s.expired, s.last_active_at, s.created_at,
        (SELECT COUNT(*) FROM vector_store_files f WHERE f.vector_store_id = s.id AND f.status = 'in_progress'),
        (SELECT COUNT(*) FROM vector_store_files f WHERE f.vector_store_id = s.id AND f.status = 'completed'),
        (SELECT COUNT(*) FROM vector_store_files f WHERE f.vector_store_id = s.id AND f.status = 'failed'),
        (SELECT COUNT(*) FROM vector_store_files f WHERE f.vector_store_id = s.id AND f.status = 'cancelled'),
        CAST((SELECT COALESCE(SUM(f.usage_bytes), 0) FROM vector_store_files f WHERE f.vector_store_id = s.id AND f.status = 'completed') AS BIGINT)
        """;

    private const string FileColumns = """
        f.vector_store_id, f.file_id, f.status, f.last_error_code, f.last_error_message, f.attributes,
        f.chunking_requested, f.chunk_max_tokens, f.chunk_overlap_tokens, f.usage_bytes, f.created_at, f.batch_id, f.generation
        """;

    /// <summary>The principal's stores and those shared with them: the owned index walk merged with the granted rows.</summary>
    private static readonly KeysetQuery UnionStores = new(
        $"SELECT {StoreColumns} FROM vector_stores s WHERE {GrantSql.Owned("s.")}",
        $"SELECT created_at FROM vector_stores WHERE {GrantSql.VisibleTo(ResourceTypes.VectorStore, "")} AND id = @cursor",
        "s.created_at", "s.id",
        $"SELECT {StoreColumns} FROM vector_stores s WHERE {GrantSql.SharedNotOwned(ResourceTypes.VectorStore, "s.")}");

    private static readonly KeysetQuery StoreFiles = new(
        $"SELECT {FileColumns} FROM vector_store_files f WHERE f.vector_store_id = @store",
        "SELECT created_at FROM vector_store_files WHERE vector_store_id = @store AND file_id = @cursor",
        "f.created_at", "f.file_id");

    private static readonly KeysetQuery StoreFilesWithStatus = StoreFiles with { Select = StoreFiles.Select + " AND f.status = @status" };

    private static readonly KeysetQuery BatchMembers = new(
        $"SELECT {FileColumns}, m.status FROM file_batch_members m JOIN vector_store_files f ON f.vector_store_id = @store AND f.file_id = m.file_id WHERE m.batch_id = @batch",
        "SELECT created_at FROM file_batch_members WHERE batch_id = @batch AND file_id = @cursor",
        "m.created_at", "m.file_id");

    private static readonly KeysetQuery BatchMembersWithStatus = BatchMembers with { Select = BatchMembers.Select + " AND m.status = @status" };

    /// <inheritdoc/>
    public async Task<VectorStoreRecord> CreateStoreAsync(VectorStoreRecord store, IReadOnlyList<Attachment> attachments, CancellationToken ct)
    {
        await database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command("""
                    INSERT INTO vector_stores (id, project, owner, name, description, metadata, embedding_model, embedding_dimensions,
                        expires_after_days, expires_at, last_active_at, created_at)
                    VALUES (@id, @project, @owner, @name, @description, @metadata, @model, @dims, @days, @expires_at, @active, @created)
                    """, transaction)
                .With("@id", store.Id).With("@project", store.Project).With("@owner", store.Owner)
                .With("@name", store.Name).With("@description", store.Description).With("@metadata", store.Metadata.ToJson())
                .With("@model", store.EmbeddingModel).With("@dims", store.EmbeddingDimensions)
                .With("@days", store.ExpiresAfterDays).With("@expires_at", store.ExpiresAt)
                .With("@active", store.LastActiveAt).With("@created", store.CreatedAt)
                .ExecuteNonQueryAsync(ct);
            await AttachInTransactionAsync(connection, transaction, new Principal(store.Project, store.Owner), store.Id, attachments, null, store.CreatedAt, ct);
        }, ct);
        await database.StoreCreatedAsync(store.EmbeddingDimensions, ct);
        return (await GetStoreAsync(new Principal(store.Project, store.Owner), store.Id, ct))!;
    }

    /// <inheritdoc/>
    public async Task<VectorStoreRecord?> GetStoreAsync(Principal principal, string storeId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await GetStoreAsync(connection, null, principal, storeId, ct);
    }

    /// <summary>
    /// The principal's store. Inside a write transaction the row is locked first where the backend locks rows
    /// (no key update, or exclusive to delete it): every status change of a store's files happens under it, which
    /// gives the per-store serialisation SQLite's single writer gives.
    /// </summary>
    private async Task<VectorStoreRecord?> GetStoreAsync(DbConnection connection, DbTransaction? transaction, Principal principal, string storeId, CancellationToken ct, bool forDelete = false)
    {
        if (transaction is not null && database.LocksRows)
        {
            var locked = await connection.Command(
                    $"SELECT 1 FROM vector_stores WHERE project = @project AND owner = @owner AND id = @id{database.Lock(forDelete ? RowLock.Update : RowLock.NoKeyUpdate)}", transaction)
                .With("@project", principal.Project).With("@owner", principal.User).With("@id", storeId).ExecuteScalarAsync(ct);
            if (locked is null)
            {
                return null;
            }
        }

        await using var command = connection.Command($"SELECT {StoreColumns} FROM vector_stores s WHERE s.project = @project AND s.owner = @owner AND s.id = @id", transaction)
            .With("@project", principal.Project).With("@owner", principal.User).With("@id", storeId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? MapStore(reader) : null;
    }

    /// <inheritdoc/>
    public async Task<Page<VectorStoreRecord>> ListStoresAsync(Principal principal, ListRequest request, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await UnionStores.PageAsync(connection, request,
            c => c.With("@project", principal.Project).With("@owner", principal.User), MapStore, ct, database.LimitsUnionBranches);
    }

    /// <inheritdoc/>
    public async Task<VectorStoreRecord?> UpdateStoreAsync(Principal principal, string storeId, VectorStoreUpdate update, long now, CancellationToken ct)
    {
        var found = await database.WriteAsync(async (connection, transaction) =>
        {
            var store = await GetStoreAsync(connection, transaction, principal, storeId, ct);
            if (store is null)
            {
                return false;
            }

            var days = update.SetExpiresAfter ? update.ExpiresAfterDays : store.ExpiresAfterDays;
            // A new policy counts from now; an unchanged one keeps its clock.
            long? expiresAt = update.SetExpiresAfter
                ? days is { } d ? now + d * 86_400L : null
                : store.ExpiresAt;
            await connection.Command("""
                    UPDATE vector_stores SET name = @name, description = @description, metadata = @metadata,
                        expires_after_days = @days, expires_at = @expires_at,
                        last_active_at = CASE WHEN @set_expiry THEN @now ELSE last_active_at END
                    WHERE id = @id
                    """, transaction)
                .With("@name", update.SetName ? update.Name : store.Name)
                .With("@description", update.SetDescription ? update.Description : store.Description)
                .With("@metadata", (update.SetMetadata ? update.Metadata! : store.Metadata).ToJson())
                .With("@days", days).With("@expires_at", expiresAt)
                .With("@set_expiry", update.SetExpiresAfter).With("@now", now).With("@id", storeId)
                .ExecuteNonQueryAsync(ct);
            return true;
        }, ct);
        return found ? await GetStoreAsync(principal, storeId, ct) : null;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>?> DeleteStoreAsync(Principal principal, string storeId, CancellationToken ct) =>
        database.WriteAsync<IReadOnlyList<string>?>(async (connection, transaction) =>
        {
            if (await GetStoreAsync(connection, transaction, principal, storeId, ct, forDelete: true) is null)
            {
                return null;
            }

            var running = await connection.Command(
                "SELECT file_id FROM vector_store_files WHERE vector_store_id = @id AND status = 'in_progress'", transaction).With("@id", storeId).ReadStringsAsync(ct);
            // The jobs go explicitly, before the cascade would take them, so the same statement can signal workers
            // running them in other processes. (On PostgreSQL no publication is in flight: each takes KEY SHARE on
            // the store row first, which the exclusive lock above excludes.) Then the chunks, row by row through
            // the lexical triggers; the rest cascades from the store row.
            await connection.Command(database.DeleteJobs("vector_store_id = @id"), transaction).With("@id", storeId).ExecuteNonQueryAsync(ct);
            await connection.Command("DELETE FROM chunks WHERE vector_store_id = @id", transaction).With("@id", storeId).ExecuteNonQueryAsync(ct);
            await connection.Command("DELETE FROM vector_stores WHERE id = @id", transaction).With("@id", storeId).ExecuteNonQueryAsync(ct);
            return running;
        }, ct);

    /// <inheritdoc/>
    public Task TouchStoreAsync(string storeId, long now, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command("""
                    UPDATE vector_stores SET last_active_at = @now,
                        expires_at = CASE WHEN expires_after_days IS NULL THEN expires_at ELSE @now + expires_after_days * 86400 END
                    WHERE id = @id AND expired = 0 AND (expires_at IS NULL OR expires_at > @now)
                    """, transaction)
                .With("@now", now).With("@id", storeId).ExecuteNonQueryAsync(ct);
        }, ct);

    /// <inheritdoc/>
    public async Task<AttachResult> AttachAsync(Principal principal, string storeId, IReadOnlyList<Attachment> attachments, NewBatch? batch, long now, CancellationToken ct)
    {
        // The answer is read inside the attach transaction: it shows the state the attach created,
        // not whatever a fast worker made of it a moment later.
        return await database.WriteAsync(async (connection, transaction) =>
        {
            var store = await GetStoreAsync(connection, transaction, principal, storeId, ct) ?? throw VectorStoreErrors.StoreNotFound(storeId);
            if (store.IsExpired(now))
            {
                throw VectorStoreErrors.StoreExpired(storeId);
            }

            if (batch?.IdempotencyKey is { } key)
            {
                var existing = await connection.Command(
                        "SELECT id FROM file_batches WHERE vector_store_id = @store AND idempotency_key = @key", transaction)
                    .With("@store", storeId).With("@key", key).ExecuteScalarAsync(ct);
                if (existing is string existingId)
                {
                    return new AttachResult([], await GetBatchAsync(connection, storeId, existingId, ct, transaction), [], Replayed: true);
                }
            }

            if (batch is not null)
            {
                await connection.Command(
                        "INSERT INTO file_batches (id, vector_store_id, idempotency_key, created_at) VALUES (@id, @store, @key, @now)", transaction)
                    .With("@id", batch.Id).With("@store", storeId).With("@key", batch.IdempotencyKey).With("@now", now)
                    .ExecuteNonQueryAsync(ct);
            }

            var stopped = await AttachInTransactionAsync(connection, transaction, principal, storeId, attachments, batch?.Id, now, ct);
            await connection.Command("UPDATE vector_stores SET last_active_at = @now WHERE id = @id", transaction)
                .With("@now", now).With("@id", storeId).ExecuteNonQueryAsync(ct);
            var files = new List<VectorStoreFileRecord>(batch is null ? attachments.Count : 0);
            if (batch is null)
            {
                // Single attaches and store creation answer with the files; batches with the batch only.
                foreach (var attachment in attachments)
                {
                    files.Add((await GetFileAsync(connection, storeId, attachment.FileId, ct, transaction))!);
                }
            }

            var batchRecord = batch is null ? null : await GetBatchAsync(connection, storeId, batch.Id, ct, transaction);
            return new AttachResult(files, batchRecord, stopped, Replayed: false);
        }, ct);
    }

    /// <summary>
    /// Validates that every file still exists as its owner's (the service checked the caller's role on it), then upserts the store-file rows (a new
    /// generation each), their jobs and batch members. Returns files whose running work was superseded.
    /// </summary>
    private async Task<IReadOnlyList<string>> AttachInTransactionAsync(
        DbConnection connection, DbTransaction transaction, Principal principal, string storeId,
        IReadOnlyList<Attachment> attachments, string? batchId, long now, CancellationToken ct)
    {
        foreach (var attachment in attachments)
        {
            // Locked for share: a concurrent delete of the file waits for this attach (and then detaches it), or wins and the file is not found.
            var exists = await connection.Command($"SELECT 1 FROM files WHERE id = @id AND project = @project AND owner = @owner{database.Lock(RowLock.Share)}", transaction)
                .With("@id", attachment.FileId).With("@project", principal.Project).With("@owner", attachment.FileOwner)
                .ExecuteScalarAsync(ct);
            if (exists is null)
            {
                throw ApiErrors.FileNotFound(attachment.FileId);
            }
        }

        var superseded = new List<string>();
        var nowMs = now * 1000;
        foreach (var attachment in attachments)
        {
            string? previousStatus = null;
            string? previousBatch = null;
            await using (var reader = await connection.Command(
                    $"SELECT status, batch_id FROM vector_store_files WHERE vector_store_id = @store AND file_id = @file{database.Lock(RowLock.Update)}", transaction)
                .With("@store", storeId).With("@file", attachment.FileId).ExecuteReaderAsync(ct))
            {
                if (await reader.ReadAsync(ct))
                {
                    previousStatus = reader.GetString(0);
                    previousBatch = reader.GetNullableString(1);
                }
            }

            if (previousStatus == VectorStoreFileStatus.InProgress)
            {
                superseded.Add(attachment.FileId);
                await SettleMemberAsync(connection, transaction, previousBatch, attachment.FileId, VectorStoreFileStatus.Cancelled, ct);
                // The job row stays (the upsert below bumps its generation): hold it, so no worker claims the old
                // generation meanwhile, and signal a worker running it anywhere.
                if (database.HoldJobs("vector_store_id = @store AND file_id = @file") is { } hold)
                {
                    await connection.Command(hold, transaction).With("@store", storeId).With("@file", attachment.FileId).ExecuteNonQueryAsync(ct);
                }
            }

            // Old chunks of a completed file stay searchable until the new generation publishes (D7).
            await connection.Command("""
                    INSERT INTO vector_store_files (vector_store_id, file_id, status, attributes, chunking_requested,
                        chunk_max_tokens, chunk_overlap_tokens, usage_bytes, batch_id, generation, created_at)
                    VALUES (@store, @file, 'in_progress', @attributes, @requested, @max, @overlap, 0, @batch, 1, @now)
                    ON CONFLICT (vector_store_id, file_id) DO UPDATE SET
                        status = 'in_progress', last_error_code = NULL, last_error_message = NULL,
                        attributes = excluded.attributes, chunking_requested = excluded.chunking_requested,
                        chunk_max_tokens = excluded.chunk_max_tokens, chunk_overlap_tokens = excluded.chunk_overlap_tokens,
                        usage_bytes = 0, batch_id = excluded.batch_id, generation = vector_store_files.generation + 1
                    """, transaction)
                .With("@store", storeId).With("@file", attachment.FileId).With("@attributes", attachment.Attributes.ToJson())
                .With("@requested", attachment.Chunking.IsAuto ? null : "static")
                .With("@max", attachment.Chunking.MaxChunkSizeTokens).With("@overlap", attachment.Chunking.ChunkOverlapTokens)
                .With("@batch", batchId).With("@now", now)
                .ExecuteNonQueryAsync(ct);

            await connection.Command("""
                    INSERT INTO ingestion_jobs (vector_store_id, file_id, generation, state, attempts, not_before_ms, deadline_ms, trace_parent)
                    VALUES (@store, @file, (SELECT generation FROM vector_store_files WHERE vector_store_id = @store AND file_id = @file),
                            'queued', 0, @now_ms, 0, @trace)
                    ON CONFLICT (vector_store_id, file_id) DO UPDATE SET
                        generation = excluded.generation, state = 'queued', attempts = 0, lease_owner = NULL,
                        lease_until_ms = NULL, not_before_ms = excluded.not_before_ms, deadline_ms = 0, trace_parent = excluded.trace_parent
                    """, transaction)
                .With("@store", storeId).With("@file", attachment.FileId).With("@now_ms", nowMs)
                .With("@trace", System.Diagnostics.Activity.Current is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C } activity ? activity.Id : null)
                .ExecuteNonQueryAsync(ct);

            if (batchId is not null)
            {
                await connection.Command("""
                        INSERT INTO file_batch_members (batch_id, file_id, status, created_at) VALUES (@batch, @file, 'in_progress', @now)
                        """, transaction)
                    .With("@batch", batchId).With("@file", attachment.FileId).With("@now", now)
                    .ExecuteNonQueryAsync(ct);
            }
        }

        return superseded;
    }

    /// <summary>Moves the batch member of a file's current attach to a terminal status, if it is still in progress.</summary>
    internal static async Task SettleMemberAsync(DbConnection connection, DbTransaction transaction, string? batchId, string fileId, string status, CancellationToken ct)
    {
        if (batchId is null)
        {
            return;
        }

        await connection.Command(
                "UPDATE file_batch_members SET status = @status WHERE batch_id = @batch AND file_id = @file AND status = 'in_progress'", transaction)
            .With("@status", status).With("@batch", batchId).With("@file", fileId)
            .ExecuteNonQueryAsync(ct);
    }

    /// <inheritdoc/>
    public async Task<VectorStoreFileRecord?> GetFileAsync(Principal principal, string storeId, string fileId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await GetStoreAsync(connection, null, principal, storeId, ct) is null
            ? throw VectorStoreErrors.StoreNotFound(storeId)
            : await GetFileAsync(connection, storeId, fileId, ct);
    }

    private static async Task<VectorStoreFileRecord?> GetFileAsync(DbConnection connection, string storeId, string fileId, CancellationToken ct, DbTransaction? transaction = null)
    {
        await using var command = connection.Command($"SELECT {FileColumns} FROM vector_store_files f WHERE f.vector_store_id = @store AND f.file_id = @file", transaction)
            .With("@store", storeId).With("@file", fileId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? MapFile(reader) : null;
    }

    /// <inheritdoc/>
    public async Task<Page<VectorStoreFileRecord>> ListFilesAsync(Principal principal, string storeId, string? status, ListRequest request, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        if (await GetStoreAsync(connection, null, principal, storeId, ct) is null)
        {
            throw VectorStoreErrors.StoreNotFound(storeId);
        }

        var query = status is null ? StoreFiles : StoreFilesWithStatus;
        return await query.PageAsync(connection, request, c =>
        {
            c.With("@store", storeId);
            if (status is not null)
            {
                c.With("@status", status);
            }
        }, MapFile, ct);
    }

    /// <inheritdoc/>
    public async Task<VectorStoreFileRecord?> UpdateFileAttributesAsync(Principal principal, string storeId, string fileId, AttributeMap attributes, CancellationToken ct)
    {
        var updated = await database.WriteAsync(async (connection, transaction) =>
        {
            if (await GetStoreAsync(connection, transaction, principal, storeId, ct) is null)
            {
                throw VectorStoreErrors.StoreNotFound(storeId);
            }

            return await connection.Command("UPDATE vector_store_files SET attributes = @attributes WHERE vector_store_id = @store AND file_id = @file", transaction)
                .With("@attributes", attributes.ToJson()).With("@store", storeId).With("@file", fileId)
                .ExecuteNonQueryAsync(ct) == 1;
        }, ct);
        if (!updated)
        {
            return null;
        }

        await using var read = await database.OpenAsync(ct);
        return await GetFileAsync(read, storeId, fileId, ct);
    }

    /// <inheritdoc/>
    public Task<bool> DetachFileAsync(Principal principal, string storeId, string fileId, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            if (await GetStoreAsync(connection, transaction, principal, storeId, ct) is null)
            {
                throw VectorStoreErrors.StoreNotFound(storeId);
            }

            return await RemoveFileFromStoreAsync(database, connection, transaction, storeId, fileId, ct);
        }, ct);

    /// <summary>Removes a file from one store: batch member settled, chunks (and lexical rows), job (a running one is signalled) and row deleted.</summary>
    internal static async Task<bool> RemoveFileFromStoreAsync(SqlBackend database, DbConnection connection, DbTransaction transaction, string storeId, string fileId, CancellationToken ct)
    {
        var batchId = await connection.Command(
                $"SELECT COALESCE(batch_id, '') FROM vector_store_files WHERE vector_store_id = @store AND file_id = @file{database.Lock(RowLock.Update)}", transaction)
            .With("@store", storeId).With("@file", fileId).ExecuteScalarAsync(ct) as string;
        if (batchId is null)
        {
            return false;
        }

        await SettleMemberAsync(connection, transaction, batchId.Length == 0 ? null : batchId, fileId, VectorStoreFileStatus.Cancelled, ct);
        foreach (var sql in new[]
        {
            "DELETE FROM chunks WHERE vector_store_id = @store AND file_id = @file",
            database.DeleteJobs("vector_store_id = @store AND file_id = @file"),
            "DELETE FROM vector_store_files WHERE vector_store_id = @store AND file_id = @file",
        })
        {
            await connection.Command(sql, transaction).With("@store", storeId).With("@file", fileId).ExecuteNonQueryAsync(ct);
        }

        return true;
    }

    /// <inheritdoc/>
    public async Task<ParsedContent?> GetParsedContentAsync(Principal principal, string storeId, string fileId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        if (await GetStoreAsync(connection, null, principal, storeId, ct) is null)
        {
            throw VectorStoreErrors.StoreNotFound(storeId);
        }

        await using var command = connection.Command("""
                SELECT f.file_id, fl.filename, f.attributes, COALESCE(f.parsed_text, '')
                FROM vector_store_files f JOIN files fl ON fl.id = f.file_id
                WHERE f.vector_store_id = @store AND f.file_id = @file
                """)
            .With("@store", storeId).With("@file", fileId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new ParsedContent(reader.GetString(0), reader.GetString(1), AttributeMap.FromJson(reader.GetString(2)), reader.GetString(3))
            : null;
    }

    /// <inheritdoc/>
    public async Task<FileBatchRecord?> GetBatchAsync(Principal principal, string storeId, string batchId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await GetStoreAsync(connection, null, principal, storeId, ct) is null
            ? throw VectorStoreErrors.StoreNotFound(storeId)
            : await GetBatchAsync(connection, storeId, batchId, ct);
    }

    private static async Task<FileBatchRecord?> GetBatchAsync(DbConnection connection, string storeId, string batchId, CancellationToken ct, DbTransaction? transaction = null)
    {
        long createdAt;
        bool cancelled;
        await using (var reader = await connection.Command(
                "SELECT created_at, cancelled FROM file_batches WHERE id = @id AND vector_store_id = @store", transaction)
            .With("@id", batchId).With("@store", storeId).ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
            {
                return null;
            }

            createdAt = reader.GetInt64(0);
            cancelled = reader.GetInt64(1) != 0;
        }

        var counts = await CountAsync(connection.Command(
            "SELECT status, COUNT(*) FROM file_batch_members WHERE batch_id = @id GROUP BY status", transaction).With("@id", batchId), ct);
        return new FileBatchRecord(batchId, storeId, createdAt, cancelled, counts);
    }

    /// <inheritdoc/>
    public async Task<CancelResult?> CancelBatchAsync(Principal principal, string storeId, string batchId, CancellationToken ct) =>
        await database.WriteAsync<CancelResult?>(async (connection, transaction) =>
        {
            if (await GetStoreAsync(connection, transaction, principal, storeId, ct) is null)
            {
                throw VectorStoreErrors.StoreNotFound(storeId);
            }

            var batch = await GetBatchAsync(connection, storeId, batchId, ct, transaction);
            if (batch is null)
            {
                return null;
            }

            if (batch.Cancelled || batch.FileCounts.InProgress == 0)
            {
                // D6: nothing left to cancel; answer with the batch as it is.
                return new CancelResult(batch, []);
            }

            // Files whose current attach belongs to this batch and is still running: stop and fence them.
            var cancelled = await connection.Command("""
                    UPDATE vector_store_files SET status = 'cancelled', generation = generation + 1, usage_bytes = 0,
                        last_error_code = NULL, last_error_message = NULL
                    WHERE vector_store_id = @store AND batch_id = @batch AND status = 'in_progress'
                    RETURNING file_id
                    """, transaction).With("@store", storeId).With("@batch", batchId).ReadStringsAsync(ct);
            if (cancelled.Count == 0)
            {
                // Every member still running when the batch was read has completed or failed since (its publication
                // committed first): nothing is left to cancel, so the batch is not marked cancelled (D6). Only
                // PostgreSQL's concurrent writers can interleave this way; SQLite's single writer cannot.
                return new CancelResult((await GetBatchAsync(connection, storeId, batchId, ct, transaction))!, []);
            }

            // Set-based whatever the batch size. Chunks left from an earlier generation of a re-attached file go
            // (a cancelled file is not searchable); the jobs go, and every one running in any process is told to
            // stop when this commits.
            var files = database.IdList(cancelled);
            await connection.Command($"DELETE FROM chunks WHERE vector_store_id = @store AND {database.IsAnyOf("file_id", "@files")}", transaction)
                .With("@store", storeId).With("@files", files).ExecuteNonQueryAsync(ct);
            await connection.Command(database.DeleteJobs($"vector_store_id = @store AND {database.IsAnyOf("file_id", "@files")}"), transaction)
                .With("@store", storeId).With("@files", files).ExecuteNonQueryAsync(ct);

            await connection.Command("UPDATE file_batch_members SET status = 'cancelled' WHERE batch_id = @batch AND status = 'in_progress'", transaction)
                .With("@batch", batchId).ExecuteNonQueryAsync(ct);
            await connection.Command("UPDATE file_batches SET cancelled = 1 WHERE id = @batch", transaction)
                .With("@batch", batchId).ExecuteNonQueryAsync(ct);
            return new CancelResult((await GetBatchAsync(connection, storeId, batchId, ct, transaction))!, cancelled);
        }, ct);

    /// <inheritdoc/>
    public async Task<Page<BatchMemberRecord>> ListBatchFilesAsync(Principal principal, string storeId, string batchId, string? status, ListRequest request, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        if (await GetStoreAsync(connection, null, principal, storeId, ct) is null)
        {
            throw VectorStoreErrors.StoreNotFound(storeId);
        }

        if (await GetBatchAsync(connection, storeId, batchId, ct) is null)
        {
            throw VectorStoreErrors.BatchNotFound(batchId);
        }

        var query = status is null ? BatchMembers : BatchMembersWithStatus;
        return await query.PageAsync(connection, request, c =>
        {
            c.With("@store", storeId).With("@batch", batchId);
            if (status is not null)
            {
                c.With("@status", status);
            }
        }, r => new BatchMemberRecord(MapFile(r), r.GetString(13)), ct);
    }

    private static async Task<FileCounts> CountAsync(DbCommand command, CancellationToken ct)
    {
        long inProgress = 0, completed = 0, failed = 0, cancelled = 0;
        await using (command)
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var n = reader.GetInt64(1);
                switch (reader.GetString(0))
                {
                    case VectorStoreFileStatus.InProgress: inProgress = n; break;
                    case VectorStoreFileStatus.Completed: completed = n; break;
                    case VectorStoreFileStatus.Failed: failed = n; break;
                    case VectorStoreFileStatus.Cancelled: cancelled = n; break;
                }
            }
        }

        return new FileCounts(inProgress, completed, failed, cancelled);
    }

    private static VectorStoreRecord MapStore(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetNullableString(3), r.GetNullableString(4),
        AttributeMap.FromJson(r.GetString(5)), r.GetString(6), r.GetInt32(7),
        r.IsDBNull(8) ? null : r.GetInt32(8), r.GetNullableInt64(9), r.GetInt64(10) != 0, r.GetInt64(11), r.GetInt64(12),
        new FileCounts(r.GetInt64(13), r.GetInt64(14), r.GetInt64(15), r.GetInt64(16)), r.GetInt64(17));

    private static VectorStoreFileRecord MapFile(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetNullableString(3), r.GetNullableString(4),
        AttributeMap.FromJson(r.GetString(5)),
        new ChunkingSpec(r.IsDBNull(6), r.GetInt32(7), r.GetInt32(8)),
        r.GetInt64(9), r.GetInt64(10), r.GetNullableString(11), r.GetInt64(12));
}
