namespace Quiver.Core.Ids;

/// <summary>The prefixes of every public object id (DECISIONS D2).</summary>
public static class IdPrefixes
{
    public const string File = "file-";
    public const string VectorStore = "vs_";
    public const string FileBatch = "vsfb_";
    public const string ApiKey = "key_";

    /// <summary>Random characters after the prefix.</summary>
    public const int RandomLength = 24;
}
