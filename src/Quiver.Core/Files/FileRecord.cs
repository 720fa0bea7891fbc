namespace Quiver.Core.Files;

/// <summary>A stored File (storage row; the wire shape is built from it by the server).</summary>
public sealed record FileRecord(
    string Id,
    string Project,
    string Owner,
    string Filename,
    string Purpose,
    long Bytes,
    string ContentType,
    long CreatedAt);
