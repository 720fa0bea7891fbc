namespace Quiver.Core.Files;

/// <summary>A stored File (storage row; the wire shape is built from it by the server); <c>ExpiresAt</c> from upload's <c>expires_after</c>.</summary>
public sealed record FileRecord(
    string Id,
    string Project,
    string Owner,
    string Filename,
    string Purpose,
    long Bytes,
    string ContentType,
    long CreatedAt,
    long? ExpiresAt = null,
    string Status = FileStatuses.Processed,
    string? StatusDetails = null)
{
    /// <summary>True once <see cref="ExpiresAt"/> has passed: the file is not found from then on and the sweeper removes it.</summary>
    public bool IsExpired(long now) => ExpiresAt is { } at && at <= now;
}

/// <summary>
/// The File object's <c>status</c> (OpenAI: uploaded, processed, error), from what its vector stores made of it:
/// <c>processed</c> once any store has it completed, or when it is in none (its bytes were validated and stored on upload);
/// <c>uploaded</c> while its first ingestion is still in progress; <c>error</c> when every store's ingestion of it ended
/// failed (then <c>status_details</c> is the latest failure's message).
/// </summary>
public static class FileStatuses
{
    public const string Uploaded = "uploaded";
    public const string Processed = "processed";
    public const string Error = "error";

    /// <summary>SQL giving the status and the details (two columns) of the row of <c>files</c> in scope.</summary>
    internal const string SelectSql = """
        CASE
          WHEN EXISTS (SELECT 1 FROM vector_store_files v WHERE v.file_id = files.id AND v.status = 'completed') THEN 'processed'
          WHEN EXISTS (SELECT 1 FROM vector_store_files v WHERE v.file_id = files.id AND v.status = 'in_progress') THEN 'uploaded'
          WHEN EXISTS (SELECT 1 FROM vector_store_files v WHERE v.file_id = files.id AND v.status = 'failed') THEN 'error'
          ELSE 'processed' END,
        (SELECT v.last_error_message FROM vector_store_files v WHERE v.file_id = files.id AND v.status = 'failed' ORDER BY v.created_at DESC LIMIT 1)
        """;
}
