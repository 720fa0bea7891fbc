using System.Collections.Frozen;

namespace Quiver.Core.Files;

/// <summary>The <c>purpose</c> values of the Files API (MKA1 reference §4.1, §2.6).</summary>
public static class FilePurposes
{
    /// <summary>Purposes accepted on upload.</summary>
    public static readonly FrozenSet<string> Upload = FrozenSet.Create(StringComparer.Ordinal,
        "assistants", "batch", "fine-tune", "vision", "user_data", "evals");

    /// <summary>Purposes accepted as a list filter.</summary>
    public static readonly FrozenSet<string> Filter = FrozenSet.Create(StringComparer.Ordinal,
        "assistants", "batch", "fine-tune", "vision", "user_data", "evals");
}
