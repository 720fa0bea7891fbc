namespace Quiver.Core.Extraction;

/// <summary>What kind of document a file is, which decides how its text is extracted.</summary>
public enum DocumentKind
{
    /// <summary>No extractor handles it (images, archives, executables, unknown binaries).</summary>
    Unsupported,
    PlainText,
    Markdown,
    Html,
    Json,
    Csv,
    SourceCode,
    Pdf,
    Docx,
    Pptx,
    Xlsx,
}
