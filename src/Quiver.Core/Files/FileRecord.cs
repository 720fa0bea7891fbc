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
    long? ExpiresAt = null)
{
    /// <summary>True once <see cref="ExpiresAt"/> has passed: the file answers 404 and the sweeper removes it.</summary>
    public bool IsExpired(long now) => ExpiresAt is { } at && at <= now;
}
