using System.IO.Compression;

namespace Quiver.Core.Extraction;

/// <summary>
/// Refuses decompression bombs before an Office package is opened. Only the ZIP central directory
/// is read (declared sizes of every entry); nothing is inflated. Checking declared sizes is enough
/// because System.IO.Compression stops inflating an entry at its declared size: a directory that
/// under-declares only yields truncated XML, which then fails to parse.
/// </summary>
internal static class OoxmlPackageGuard
{
    /// <summary>Parts smaller than this are exempt from the ratio check: tiny XML compresses very well.</summary>
    private const long RatioCheckMinBytes = 1024 * 1024;

    public static void Inspect(Stream stream, ExtractionOptions options, CancellationToken ct)
    {
        stream.Position = 0;
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw ExtractionException.Invalid("The file is not a valid Office document: its ZIP container is damaged.", ex);
        }

        using (archive)
        {
            if (archive.Entries.Count > options.MaxPackageEntries)
            {
                throw ExtractionException.Invalid(
                    $"The Office document has {archive.Entries.Count:N0} parts; at most {options.MaxPackageEntries:N0} are allowed.");
            }

            long total = 0;
            foreach (var entry in archive.Entries)
            {
                ct.ThrowIfCancellationRequested();
                var size = entry.Length;
                if (size > options.MaxPackagePartBytes)
                {
                    throw ExtractionException.Invalid(
                        $"The Office document has a part that expands to {Megabytes(size)} MB; at most {Megabytes(options.MaxPackagePartBytes)} MB per part is allowed.");
                }

                total += size;
                if (total > options.MaxPackageTotalBytes)
                {
                    throw ExtractionException.Invalid(
                        $"The Office document expands to more than {Megabytes(options.MaxPackageTotalBytes)} MB, the limit for one file.");
                }

                if (size > RatioCheckMinBytes && (entry.CompressedLength == 0 || size / entry.CompressedLength > options.MaxPackageCompressionRatio))
                {
                    throw ExtractionException.Invalid(
                        "The Office document has a part that is compressed far more than real documents are; it looks like a decompression bomb and was not opened.");
                }
            }
        }

        stream.Position = 0;
    }

    private static long Megabytes(long bytes) => bytes / (1024 * 1024);
}
