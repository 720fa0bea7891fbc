namespace Quiver.Core.VectorStores;

/// <summary>Per-status counts of a store's files or a batch's members; <see cref="Total"/> is their sum.</summary>
public readonly record struct FileCounts(long InProgress, long Completed, long Failed, long Cancelled)
{
    public long Total => InProgress + Completed + Failed + Cancelled;
}

/// <summary>A vector store with its derived counts and usage (storage row → domain).</summary>
public sealed record VectorStoreRecord(
    string Id,
    string Project,
    string Owner,
    string? Name,
    string? Description,
    AttributeMap Metadata,
    string EmbeddingModel,
    int EmbeddingDimensions,
    int? ExpiresAfterDays,
    long? ExpiresAt,
    bool Expired,
    long LastActiveAt,
    long CreatedAt,
    FileCounts FileCounts,
    long UsageBytes)
{
    /// <summary>D5/D12: expired if expired, else in_progress while any file is, else completed.</summary>
    public string Status(long now) =>
        IsExpired(now) ? "expired" : FileCounts.InProgress > 0 ? "in_progress" : "completed";

    public bool IsExpired(long now) => Expired || ExpiresAt is { } at && at <= now;
}

/// <summary>A file attached to a vector store.</summary>
public sealed record VectorStoreFileRecord(
    string VectorStoreId,
    string FileId,
    string Status,
    string? LastErrorCode,
    string? LastErrorMessage,
    AttributeMap Attributes,
    ChunkingSpec Chunking,
    long UsageBytes,
    long CreatedAt,
    string? BatchId,
    long Generation);

/// <summary>A file batch with its members' counts.</summary>
public sealed record FileBatchRecord(string Id, string VectorStoreId, long CreatedAt, bool Cancelled, FileCounts FileCounts)
{
    /// <summary>D7: cancelled after a cancel; in_progress until every member is terminal; failed if all failed; else completed.</summary>
    public string Status =>
        Cancelled ? "cancelled"
        : FileCounts.InProgress > 0 ? "in_progress"
        : FileCounts.Total > 0 && FileCounts.Failed == FileCounts.Total ? "failed"
        : "completed";
}

/// <summary>One file to attach, with what applies to it.</summary>
/// <param name="FileOwner">The user who created the file (the caller holds a role on it); the attach checks the file still exists as theirs.</param>
public sealed record Attachment(string FileId, AttributeMap Attributes, ChunkingSpec Chunking, string FileOwner);

/// <summary>A file batch member as listed: the store file plus the member's own status.</summary>
public sealed record BatchMemberRecord(VectorStoreFileRecord File, string MemberStatus);

/// <summary>Fields of a store update; null means "leave as is" unless the matching flag says "set".</summary>
public sealed record VectorStoreUpdate(
    bool SetName, string? Name,
    bool SetDescription, string? Description,
    bool SetMetadata, AttributeMap? Metadata,
    bool SetExpiresAfter, int? ExpiresAfterDays);

/// <summary>A chunk ready for publication: its text, token count and unit-length embedding.</summary>
public sealed record ChunkToPublish(int Index, string Text, int TokenCount, float[] Embedding);
