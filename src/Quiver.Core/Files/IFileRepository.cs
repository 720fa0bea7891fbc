using Quiver.Core.Paging;
using Quiver.Core.Tenancy;

namespace Quiver.Core.Files;

/// <summary>File metadata, always scoped by principal.</summary>
public interface IFileRepository
{
    /// <summary>Stores a new file row.</summary>
    Task InsertAsync(FileRecord file, CancellationToken ct);

    /// <summary>The principal's file, or null when it does not exist or belongs to someone else.</summary>
    Task<FileRecord?> GetAsync(Principal principal, string fileId, CancellationToken ct);

    /// <summary>A keyset page of the principal's files and those granted to its user or publicly, optionally only one purpose.</summary>
    /// <exception cref="Errors.ApiException">Invalid request when a cursor names no file of the principal.</exception>
    Task<Page<FileRecord>> ListAsync(Principal principal, string? purpose, ListRequest request, CancellationToken ct);

    /// <summary>
    /// Deletes the principal's file and, in the same transaction, detaches it from every vector
    /// store (D8). Returns the stores it was attached to, or null when there was no such file.
    /// </summary>
    Task<IReadOnlyList<string>?> DeleteAsync(Principal principal, string fileId, CancellationToken ct);

    /// <summary>Up to <paramref name="limit"/> files whose <c>expires_at</c> is at or before <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<(Principal Principal, string FileId)>> ListExpiredAsync(long now, int limit, CancellationToken ct);
}
