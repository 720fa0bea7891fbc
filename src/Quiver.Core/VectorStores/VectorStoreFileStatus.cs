namespace Quiver.Core.VectorStores;

/// <summary>The four statuses a vector store file (and batch member) can have (D5).</summary>
public static class VectorStoreFileStatus
{
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsValid(string value) => value is InProgress or Completed or Failed or Cancelled;
}

/// <summary><c>last_error.code</c> values (D5).</summary>
public static class IngestionErrorCodes
{
    public const string UnsupportedFile = "unsupported_file";
    public const string InvalidFile = "invalid_file";
    public const string ServerError = "server_error";
}
