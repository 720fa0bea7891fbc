namespace Quiver.Core;

/// <summary>Defaults and limits of the API, each with its unit (DECISIONS D8, D12, D13).</summary>
public static class Limits
{
    /// <summary>Default maximum upload size: 512 MiB.</summary>
    public const long DefaultMaxUploadBytes = 512L * 1024 * 1024;

    /// <summary>Longest accepted file name, in UTF-16 characters.</summary>
    public const int MaxFilenameLength = 255;

    /// <summary>Vector-store lists: <c>limit</c> range and default.</summary>
    public const int MaxListLimit = 100;
    public const int DefaultListLimit = 20;

    /// <summary>Files list: <c>limit</c> range and default.</summary>
    public const int MaxFilesListLimit = 10_000;
    public const int DefaultFilesListLimit = 10_000;
}
