using Quiver.Core.Paging;
using Quiver.Core.Tenancy;

namespace Quiver.Core.VectorStores;

/// <summary>
/// Vector stores, their files and batches. Every method that changes statuses does so in one
/// transaction together with the rows that depend on them (jobs, batch members, chunks), so
/// counts derived from the rows are always exact. Reads are scoped by principal.
/// </summary>
public interface IVectorStoreRepository
{
    /// <summary>Creates a store and attaches <paramref name="attachments"/> (validated to exist for the principal) atomically.</summary>
    Task<VectorStoreRecord> CreateStoreAsync(VectorStoreRecord store, IReadOnlyList<Attachment> attachments, CancellationToken ct);

    Task<VectorStoreRecord?> GetStoreAsync(Principal principal, string storeId, CancellationToken ct);

    /// <summary>The principal's stores and those granted to its user or publicly (see <see cref="Access.IGrantStore"/>).</summary>
    Task<Page<VectorStoreRecord>> ListStoresAsync(Principal principal, ListRequest request, CancellationToken ct);

    /// <summary>Applies an update; null when the store is not the principal's.</summary>
    Task<VectorStoreRecord?> UpdateStoreAsync(Principal principal, string storeId, VectorStoreUpdate update, long now, CancellationToken ct);

    /// <summary>Deletes a store with its files, batches, jobs and chunks; the ids of files whose work was in flight, or null when not found.</summary>
    Task<IReadOnlyList<string>?> DeleteStoreAsync(Principal principal, string storeId, CancellationToken ct);

    /// <summary>Records activity: <c>last_active_at = now</c> and, with an expiry policy, <c>expires_at</c> slides.</summary>
    Task TouchStoreAsync(string storeId, long now, CancellationToken ct);

    /// <summary>
    /// Attaches files (creating a batch when <paramref name="batch"/> is given) in one transaction:
    /// the store must be the principal's and not expired, every file must exist as its
    /// <see cref="Attachment.FileOwner"/>'s, and nothing is written otherwise. Re-attaching a file starts a new generation.
    /// </summary>
    Task<AttachResult> AttachAsync(Principal principal, string storeId, IReadOnlyList<Attachment> attachments, NewBatch? batch, long now, CancellationToken ct);

    Task<VectorStoreFileRecord?> GetFileAsync(Principal principal, string storeId, string fileId, CancellationToken ct);

    Task<Page<VectorStoreFileRecord>> ListFilesAsync(Principal principal, string storeId, string? status, ListRequest request, CancellationToken ct);

    Task<VectorStoreFileRecord?> UpdateFileAttributesAsync(Principal principal, string storeId, string fileId, AttributeMap attributes, CancellationToken ct);

    /// <summary>Detaches a file: its chunks, job and row go; a batch member in progress becomes cancelled. False when not attached.</summary>
    Task<bool> DetachFileAsync(Principal principal, string storeId, string fileId, CancellationToken ct);

    /// <summary>The parsed text of a completed file, with its file name and attributes.</summary>
    Task<ParsedContent?> GetParsedContentAsync(Principal principal, string storeId, string fileId, CancellationToken ct);

    Task<FileBatchRecord?> GetBatchAsync(Principal principal, string storeId, string batchId, CancellationToken ct);

    /// <summary>Cancels per D6 in one transaction; null when the batch is not found.</summary>
    Task<CancelResult?> CancelBatchAsync(Principal principal, string storeId, string batchId, CancellationToken ct);

    Task<Page<BatchMemberRecord>> ListBatchFilesAsync(Principal principal, string storeId, string batchId, string? status, ListRequest request, CancellationToken ct);
}

/// <summary>Result of an attach: the store files as now recorded, the batch (if any), and files whose earlier in-flight work was superseded.</summary>
public sealed record AttachResult(IReadOnlyList<VectorStoreFileRecord> Files, FileBatchRecord? Batch, IReadOnlyList<string> Superseded, bool Replayed);

/// <summary>A batch to create with the attach.</summary>
public sealed record NewBatch(string Id, string? IdempotencyKey);

/// <summary>Result of a batch cancel: the batch after it and the files whose work must stop.</summary>
public sealed record CancelResult(FileBatchRecord Batch, IReadOnlyList<string> CancelledFileIds);

/// <summary>A file's parsed text for the content endpoint.</summary>
public sealed record ParsedContent(string FileId, string Filename, AttributeMap Attributes, string Text);
