using Microsoft.Data.Sqlite;
using Quiver.Core.Access;
using Quiver.Core.Files;
using Quiver.Core.Paging;
using Quiver.Core.Tenancy;

namespace Quiver.Core.Storage.Sqlite;

/// <inheritdoc/>
internal sealed class SqliteFileRepository(SqliteDatabase database) : IFileRepository
{
    private const string Columns = "id, project, owner, filename, purpose, bytes, content_type, created_at";

    private static readonly SqliteKeysetQuery AllFiles = new(
        $"SELECT {Columns} FROM files WHERE {GrantSql.VisibleTo(ResourceTypes.File, "")}",
        $"SELECT created_at FROM files WHERE {GrantSql.VisibleTo(ResourceTypes.File, "")} AND id = @cursor",
        "created_at", "id");

    private static readonly SqliteKeysetQuery FilesWithPurpose = AllFiles with
    {
        Select = AllFiles.Select + " AND purpose = @purpose",
    };

    private static readonly SqliteKeysetQuery OwnFiles = new(
        $"SELECT {Columns} FROM files WHERE {GrantSql.Owned("")}",
        $"SELECT created_at FROM files WHERE {GrantSql.Owned("")} AND id = @cursor",
        "created_at", "id");

    private static readonly SqliteKeysetQuery OwnFilesWithPurpose = OwnFiles with
    {
        Select = OwnFiles.Select + " AND purpose = @purpose",
    };

    /// <inheritdoc/>
    public Task InsertAsync(FileRecord file, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command(
                    $"INSERT INTO files ({Columns}) VALUES (@id, @project, @owner, @filename, @purpose, @bytes, @content_type, @created_at)",
                    transaction)
                .With("@id", file.Id).With("@project", file.Project).With("@owner", file.Owner)
                .With("@filename", file.Filename).With("@purpose", file.Purpose).With("@bytes", file.Bytes)
                .With("@content_type", file.ContentType).With("@created_at", file.CreatedAt)
                .ExecuteNonQueryAsync(ct);
        }, ct);

    /// <inheritdoc/>
    public async Task<FileRecord?> GetAsync(Principal principal, string fileId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command(
                $"SELECT {Columns} FROM files WHERE project = @project AND owner = @owner AND id = @id")
            .With("@project", principal.Project).With("@owner", principal.User).With("@id", fileId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Map(reader) : null;
    }

    /// <inheritdoc/>
    public async Task<Page<FileRecord>> ListAsync(Principal principal, string? purpose, ListRequest request, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var shared = await connection.Command(GrantSql.AnyGrant(ResourceTypes.File))
            .With("@project", principal.Project).With("@owner", principal.User).ExecuteScalarAsync(ct) is not null;
        var query = (shared, purpose is null) switch
        {
            (true, true) => AllFiles,
            (true, false) => FilesWithPurpose,
            (false, true) => OwnFiles,
            (false, false) => OwnFilesWithPurpose,
        };
        return await query.PageAsync(connection, request, command =>
        {
            command.With("@project", principal.Project).With("@owner", principal.User);
            if (purpose is not null)
            {
                command.With("@purpose", purpose);
            }
        }, Map, ct);
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

            var stores = await SqliteVectorStoreRepository.ReadStringsAsync(
                connection.Command("SELECT vector_store_id FROM vector_store_files WHERE file_id = @id", transaction).With("@id", fileId), ct);
            foreach (var store in stores)
            {
                await SqliteVectorStoreRepository.RemoveFileFromStoreAsync(connection, transaction, store, fileId, ct);
            }

            return stores;
        }, ct);

    internal static FileRecord Map(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
        reader.GetString(4), reader.GetInt64(5), reader.GetString(6), reader.GetInt64(7));
}
