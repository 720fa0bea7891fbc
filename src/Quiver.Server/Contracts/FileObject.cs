using Quiver.Core.Files;

namespace Quiver.Server.Contracts;

/// <summary>The File object (MKA1 reference §2.6), the same in both dialects.</summary>
public sealed record FileObject(
    string Id,
    string Object,
    long Bytes,
    long CreatedAt,
    string Filename,
    string Purpose,
    long? ExpiresAt,
    string Status,
    string? StatusDetails)
{
    internal static FileObject From(FileRecord file) =>
        new(file.Id, "file", file.Bytes, file.CreatedAt, file.Filename, file.Purpose, file.ExpiresAt, file.Status, file.StatusDetails);
}

/// <summary>Answer to a File delete.</summary>
public sealed record FileDeleted(string Id, string Object, bool Deleted);
