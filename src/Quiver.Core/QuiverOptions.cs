namespace Quiver.Core;

/// <summary>Top-level settings (config section <c>Quiver</c>).</summary>
public sealed class QuiverOptions
{
    public const string Section = "Quiver";

    /// <summary>Directory holding the database, file bytes and indexes. Default <c>./quiver-data</c>; also <c>--data-dir</c> / <c>QUIVER_DATA_DIR</c>.</summary>
    public string DataDir { get; set; } = "./quiver-data";

    /// <summary>Largest accepted upload in bytes. Default 512 MiB; larger uploads are refused as too large.</summary>
    public long MaxUploadBytes { get; set; } = Limits.DefaultMaxUploadBytes;

    /// <summary>The data directory as an absolute path.</summary>
    public string FullDataDir => Path.GetFullPath(DataDir);
}
