using DocumentFormat.OpenXml.Packaging;

namespace Quiver.Core.Extraction;

/// <summary>Settings shared by the Office extractors.</summary>
internal static class OoxmlOpenSettings
{
    /// <summary>
    /// Read-only settings that also cap each part's XML at the per-part size limit (UTF-8 XML has
    /// at most one character per byte), a second line of defence behind <see cref="OoxmlPackageGuard"/>.
    /// </summary>
    public static OpenSettings Create(ExtractionOptions options) => new()
    {
        AutoSave = false,
        MaxCharactersInPart = options.MaxPackagePartBytes,
    };
}
