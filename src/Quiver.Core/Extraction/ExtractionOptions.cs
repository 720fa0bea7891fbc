using System.ComponentModel.DataAnnotations;

namespace Quiver.Core.Extraction;

/// <summary>
/// Limits that keep text extraction from exhausting memory or CPU on hostile or pathological
/// uploads. Bound from the <c>Quiver:Extraction</c> configuration section.
/// </summary>
internal sealed class ExtractionOptions
{
    public const string Section = "Quiver:Extraction";

    /// <summary>
    /// Maximum characters of text one file may yield, counted as extraction proceeds so a huge
    /// document is refused before it fills memory. Default 50,000,000 characters (≈100 MB of UTF-16).
    /// </summary>
    [Range(1_000, int.MaxValue)]
    public int MaxCharacters { get; set; } = 50_000_000;

    /// <summary>Wall-clock budget for extracting one file, in seconds. Default 120 s.</summary>
    [Range(1, 3_600)]
    public int TimeoutSeconds { get; set; } = 120;

    /// <summary>Maximum number of pages a PDF may have. Default 5,000 pages.</summary>
    [Range(1, 1_000_000)]
    public int MaxPdfPages { get; set; } = 5_000;

    /// <summary>
    /// Maximum uncompressed size of one part (ZIP entry) of a DOCX/PPTX/XLSX package, in bytes,
    /// as declared in the ZIP central directory. Default 256 MiB (268,435,456 bytes).
    /// </summary>
    [Range(1_024, long.MaxValue)]
    public long MaxPackagePartBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Maximum total uncompressed size of all parts of a DOCX/PPTX/XLSX package, in bytes.
    /// Default 512 MiB (536,870,912 bytes).
    /// </summary>
    [Range(1_024, long.MaxValue)]
    public long MaxPackageTotalBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Maximum number of parts (ZIP entries) in a DOCX/PPTX/XLSX package. Default 10,000 entries.</summary>
    [Range(1, int.MaxValue)]
    public int MaxPackageEntries { get; set; } = 10_000;

    /// <summary>
    /// Maximum uncompressed:compressed ratio of a package part, checked only for parts whose
    /// uncompressed size exceeds 1 MiB (small parts legitimately compress very well). Default 200
    /// (Office XML typically compresses 5–30×; runs of zeros compress about 1,000×).
    /// </summary>
    [Range(2, int.MaxValue)]
    public int MaxPackageCompressionRatio { get; set; } = 200;
}
