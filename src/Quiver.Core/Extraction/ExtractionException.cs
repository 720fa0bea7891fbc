namespace Quiver.Core.Extraction;

/// <summary>
/// A file whose text cannot be extracted. This is the file's fault, not a transient failure, so
/// ingestion marks the file <c>failed</c> with <see cref="Code"/> and <see cref="Exception.Message"/>
/// as <c>last_error</c>. Messages are shown to users: they say what is wrong and never contain
/// paths or the text of an underlying exception (that goes to <see cref="Exception.InnerException"/>
/// for the logs).
/// </summary>
internal sealed class ExtractionException(string code, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The file type has no extractor: images, archives, executables, unknown binaries.</summary>
    public const string UnsupportedFile = "unsupported_file";

    /// <summary>The file claims a supported type but is corrupt, encrypted, too large or has no text.</summary>
    public const string InvalidFile = "invalid_file";

    /// <summary><see cref="UnsupportedFile"/> or <see cref="InvalidFile"/>.</summary>
    public string Code { get; } = code;

    public static ExtractionException Invalid(string message, Exception? innerException = null) =>
        new(InvalidFile, message, innerException);

    public static ExtractionException Unsupported(string message) => new(UnsupportedFile, message);
}
