using System.Data.Common;
using Quiver.Core.Access;
using Quiver.Core.Files;
using Quiver.Core.Paging;
using Quiver.Core.Tenancy;

namespace Quiver.Core.Storage.Relational;

/// <inheritdoc/>
internal sealed class SqlFileRepository(SqlBackend database, TimeProvider? time = null) : IFileRepository
{
    private const string Columns = "id, project, owner, filename, purpose, bytes, content_type, created_at, expires_at";

    /// <summary>What readers select: the stored columns, then the status and its details (<see cref="FileStatuses"/>).</summary>
    private const string ReadColumns = Columns + ", " + FileStatuses.SelectSql;

    /// <summary>Expired files are gone for readers at once; the sweeper deletes them soon after.</summary>
    private const string NotExpired = " AND (expires_at IS NULL OR expires_at > @now)";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The principal's files and those shared with them: the owned index walk merged with the granted rows.</summary>
    private static readonly KeysetQuery UnionFiles = new(
        $"SELECT {ReadColumns} FROM files WHERE {GrantSql.Owned("")}" + NotExpired,
        $"SELECT created_at FROM files WHERE {GrantSql.VisibleTo(ResourceTypes.File, "")} AND id = @cursor",
        "created_at", "id",
        $"SELECT {ReadColumns} FROM files WHERE {GrantSql.SharedNotOwned(ResourceTypes.File, "")}" + NotExpired);

    private static KeysetQuery WithPurpose(KeysetQuery query) => query with
    {
        Select = query.Select + " AND purpose = @purpose",
        UnionSelect = query.UnionSelect is null ? null : query.UnionSelect + " AND purpose = @purpose",
    };

    private static readonly KeysetQuery UnionFilesWithPurpose = WithPurpose(UnionFiles);

    /// <inheritdoc/>
    public Task InsertAsync(FileRecord file, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command(
                    $"INSERT INTO files ({Columns}) VALUES (@id, @project, @owner, @filename, @purpose, @bytes, @content_type, @created_at, @expires_at)",
                    transaction)
                .With("@id", file.Id).With("@project", file.Project).With("@owner", file.Owner)
                .With("@filename", file.Filename).With("@purpose", file.Purpose).With("@bytes", file.Bytes)
                .With("@content_type", file.ContentType).With("@created_at", file.CreatedAt).WithInt64("@expires_at", file.ExpiresAt)
                .ExecuteNonQueryAsync(ct);
        }, ct);

    /// <inheritdoc/>
    public async Task<FileRecord?> GetAsync(Principal principal, string fileId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command(
                $"SELECT {ReadColumns} FROM files WHERE project = @project AND owner = @owner AND id = @id" + NotExpired)
            .With("@project", principal.Project).With("@owner", principal.User).With("@id", fileId).With("@now", Now());
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Map(reader) : null;
    }

    /// <inheritdoc/>
    public async Task<Page<FileRecord>> ListAsync(Principal principal, string? purpose, ListRequest request, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var query = purpose is null ? UnionFiles : UnionFilesWithPurpose;
        return await query.PageAsync(connection, request, command =>
        {
            command.With("@project", principal.Project).With("@owner", principal.User).With("@now", Now());
            if (purpose is not null)
            {
                command.With("@purpose", purpose);
            }
        }, Map, ct, database.LimitsUnionBranches);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>?> DeleteAsync(Principal principal, string fileId, CancellationToken ct) =>
        database.WriteAsync<IReadOnlyList<string>?>(async (connection, transaction) =>
        {
            var deleted = await connection.Command("DELETE FROM files WHERE project = @project AND owner = @owner AND id = @id", transaction)
                .With("@project", principal.Project).With("@owner", principal.User).With("@id", fileId)
                .ExecuteNonQueryAsync(ct) == 1;
            if (!deleted)
            {
                return null;
            }

            // Store rows are locked (and so read as committed) in a stable order: no deadlock with a concurrent attach.
            var stores = await connection.Command(
                    $"SELECT vector_store_id FROM vector_store_files WHERE file_id = @id ORDER BY vector_store_id{database.Lock(RowLock.Update)}", transaction)
                .With("@id", fileId).ReadStringsAsync(ct);
            foreach (var store in stores)
            {
                await SqlVectorStoreRepository.RemoveFileFromStoreAsync(database, connection, transaction, store, fileId, ct);
            }

            return stores;
        }, ct);

    internal static FileRecord Map(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
        reader.GetString(4), reader.GetInt64(5), reader.GetString(6), reader.GetInt64(7), reader.GetNullableInt64(8),
        reader.GetString(9), reader.GetString(9) == FileStatuses.Error ? reader.GetNullableString(10) : null);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<(Principal Principal, string FileId)>> ListExpiredAsync(long now, int limit, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command(
                "SELECT project, owner, id FROM files WHERE expires_at IS NOT NULL AND expires_at <= @now ORDER BY expires_at, id LIMIT @limit")
            .With("@now", now).With("@limit", limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var expired = new List<(Principal, string)>();
        while (await reader.ReadAsync(ct))
        {
            expired.Add((new Principal(reader.GetString(0), reader.GetString(1)), reader.GetString(2)));
        }

        return expired;
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();
}
