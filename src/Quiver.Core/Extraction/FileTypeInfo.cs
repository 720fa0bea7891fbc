namespace Quiver.Core.Extraction;

/// <summary>The detected MIME type and document format of a file.</summary>
public readonly record struct FileTypeInfo(string MimeType, DocumentKind Format);
