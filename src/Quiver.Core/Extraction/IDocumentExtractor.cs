namespace Quiver.Core.Extraction;

/// <summary>Turns an uploaded file into plain text for chunking and indexing.</summary>
internal interface IDocumentExtractor
{
    /// <summary>
    /// Detects the type of the file at <paramref name="path"/> from its first bytes and
    /// <paramref name="filename"/> (the name the user uploaded it under) and extracts its text.
    /// </summary>
    /// <exception cref="ExtractionException">The file is unsupported, corrupt, encrypted, too large or has no text.</exception>
    /// <exception cref="IOException">The file at <paramref name="path"/> is missing or unreadable (a server fault, not the user's).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    Task<ExtractedText> ExtractAsync(string path, string filename, CancellationToken ct);
}
