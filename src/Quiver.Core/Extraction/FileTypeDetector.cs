using System.Collections.Frozen;

namespace Quiver.Core.Extraction;

/// <summary>
/// Detects a file's type from its name and its first bytes. Magic bytes win over the extension
/// for binary formats (a PDF renamed to .txt is still a PDF); text formats are told apart by
/// extension because they have no signature. Used both for the Files API's <c>Content-Type</c>
/// and to pick the extractor during ingestion.
/// </summary>
public static class FileTypeDetector
{
    /// <summary>How many leading bytes <see cref="Detect"/> looks at.</summary>
    public const int HeadLength = 512;

    private static readonly FrozenDictionary<string, FileTypeInfo> ByExtension = new Dictionary<string, FileTypeInfo>(StringComparer.OrdinalIgnoreCase)
    {
        [".txt"] = new("text/plain", DocumentKind.PlainText),
        [".text"] = new("text/plain", DocumentKind.PlainText),
        [".log"] = new("text/plain", DocumentKind.PlainText),
        [".md"] = new("text/markdown", DocumentKind.Markdown),
        [".markdown"] = new("text/markdown", DocumentKind.Markdown),
        [".html"] = new("text/html", DocumentKind.Html),
        [".htm"] = new("text/html", DocumentKind.Html),
        [".json"] = new("application/json", DocumentKind.Json),
        [".jsonl"] = new("application/jsonl", DocumentKind.Json),
        [".csv"] = new("text/csv", DocumentKind.Csv),
        [".tsv"] = new("text/tab-separated-values", DocumentKind.Csv),
        [".pdf"] = new("application/pdf", DocumentKind.Pdf),
        [".docx"] = new("application/vnd.openxmlformats-officedocument.wordprocessingml.document", DocumentKind.Docx),
        [".pptx"] = new("application/vnd.openxmlformats-officedocument.presentationml.presentation", DocumentKind.Pptx),
        [".xlsx"] = new("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", DocumentKind.Xlsx),
        [".c"] = new("text/x-c", DocumentKind.SourceCode),
        [".h"] = new("text/x-c", DocumentKind.SourceCode),
        [".cpp"] = new("text/x-c++", DocumentKind.SourceCode),
        [".hpp"] = new("text/x-c++", DocumentKind.SourceCode),
        [".cc"] = new("text/x-c++", DocumentKind.SourceCode),
        [".cs"] = new("text/x-csharp", DocumentKind.SourceCode),
        [".java"] = new("text/x-java", DocumentKind.SourceCode),
        [".py"] = new("text/x-python", DocumentKind.SourceCode),
        [".rb"] = new("text/x-ruby", DocumentKind.SourceCode),
        [".go"] = new("text/x-golang", DocumentKind.SourceCode),
        [".rs"] = new("text/x-rust", DocumentKind.SourceCode),
        [".js"] = new("text/javascript", DocumentKind.SourceCode),
        [".mjs"] = new("text/javascript", DocumentKind.SourceCode),
        [".ts"] = new("application/typescript", DocumentKind.SourceCode),
        [".tsx"] = new("application/typescript", DocumentKind.SourceCode),
        [".php"] = new("text/x-php", DocumentKind.SourceCode),
        [".sh"] = new("application/x-sh", DocumentKind.SourceCode),
        [".sql"] = new("application/sql", DocumentKind.SourceCode),
        [".css"] = new("text/css", DocumentKind.SourceCode),
        [".xml"] = new("application/xml", DocumentKind.SourceCode),
        [".yaml"] = new("application/yaml", DocumentKind.SourceCode),
        [".yml"] = new("application/yaml", DocumentKind.SourceCode),
        [".toml"] = new("application/toml", DocumentKind.SourceCode),
        [".tex"] = new("text/x-tex", DocumentKind.SourceCode),
        [".kt"] = new("text/x-kotlin", DocumentKind.SourceCode),
        [".swift"] = new("text/x-swift", DocumentKind.SourceCode),
        [".png"] = new("image/png", DocumentKind.Unsupported),
        [".jpg"] = new("image/jpeg", DocumentKind.Unsupported),
        [".jpeg"] = new("image/jpeg", DocumentKind.Unsupported),
        [".gif"] = new("image/gif", DocumentKind.Unsupported),
        [".webp"] = new("image/webp", DocumentKind.Unsupported),
        [".zip"] = new("application/zip", DocumentKind.Unsupported),
        [".gz"] = new("application/gzip", DocumentKind.Unsupported),
        [".mp3"] = new("audio/mpeg", DocumentKind.Unsupported),
        [".mp4"] = new("video/mp4", DocumentKind.Unsupported),
        [".doc"] = new("application/msword", DocumentKind.Unsupported),
        [".xls"] = new("application/vnd.ms-excel", DocumentKind.Unsupported),
        [".ppt"] = new("application/vnd.ms-powerpoint", DocumentKind.Unsupported),
        [".rtf"] = new("application/rtf", DocumentKind.Unsupported),
        [".svg"] = new("image/svg+xml", DocumentKind.Unsupported),
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly FileTypeInfo OctetStream = new("application/octet-stream", DocumentKind.Unsupported);
    private static readonly FileTypeInfo UnknownText = new("text/plain", DocumentKind.PlainText);

    /// <summary>Detects the type of a file named <paramref name="filename"/> starting with <paramref name="head"/>.</summary>
    public static FileTypeInfo Detect(string filename, ReadOnlySpan<byte> head)
    {
        var extension = Path.GetExtension(filename);
        ByExtension.TryGetValue(extension, out var byExtension);

        // PDF readers accept junk before the header, so a file named .pdf may have it a few bytes in.
        if (head.StartsWith("%PDF-"u8) || (byExtension.Format == DocumentKind.Pdf && head.IndexOf("%PDF-"u8) >= 0))
        {
            return ByExtension[".pdf"];
        }

        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8))
        {
            // OOXML documents are ZIP files; only the extension says which one.
            return IsOoxml(byExtension.Format) ? byExtension : ByExtension[".zip"];
        }

        if (head.StartsWith(CompoundFileSignature))
        {
            // An OLE compound file is either a legacy .doc/.xls/.ppt or a password-protected OOXML
            // document (Office wraps encrypted packages this way); keep the extension's type so the
            // extractor can say which.
            return IsOoxml(byExtension.Format) || extension.ToLowerInvariant() is ".doc" or ".xls" or ".ppt"
                ? byExtension
                : OctetStream;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ByExtension[".png"];
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ByExtension[".jpg"];
        }

        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return ByExtension[".gif"];
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]))
        {
            return ByExtension[".gz"];
        }

        if (byExtension.MimeType is not null)
        {
            // A text extension on binary content is not text.
            return byExtension.Format is not DocumentKind.Unsupported && !IsBinaryFormat(byExtension.Format) && LooksBinary(head)
                ? OctetStream
                : byExtension;
        }

        if (head.Length == 0 || LooksBinary(head))
        {
            return OctetStream;
        }

        return LooksLikeHtml(head) ? ByExtension[".html"] : UnknownText;
    }

    /// <summary>The OLE2 compound file header (legacy Office files and encrypted OOXML packages).</summary>
    internal static ReadOnlySpan<byte> CompoundFileSignature => [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

    private static bool IsOoxml(DocumentKind format) =>
        format is DocumentKind.Docx or DocumentKind.Pptx or DocumentKind.Xlsx;

    private static bool IsBinaryFormat(DocumentKind format) => format == DocumentKind.Pdf || IsOoxml(format);

    /// <summary>
    /// True for content that is not text: NUL bytes or C0 control characters that text does not
    /// use. UTF-16/32 text with a BOM is text; bytes that are not UTF-8 but have no such controls
    /// are taken as Latin-1/Windows-1252 text.
    /// </summary>
    private static bool LooksBinary(ReadOnlySpan<byte> head)
    {
        if (TextDecoding.HasWideBom(head))
        {
            return false;
        }

        foreach (var b in head)
        {
            // Allowed: tab, LF, VT, FF, CR, SUB (DOS end of file) and ESC (ANSI colours in logs).
            if (b < 0x20 && b is not (0x09 or 0x0A or 0x0B or 0x0C or 0x0D or 0x1A or 0x1B))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when text without a known extension starts like an HTML document.</summary>
    private static bool LooksLikeHtml(ReadOnlySpan<byte> head)
    {
        var start = head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? head[3..] : head;
        start = start.TrimStart(" \t\r\n"u8);
        return StartsWithIgnoreCase(start, "<!doctype html"u8) || StartsWithIgnoreCase(start, "<html"u8);
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> prefix) =>
        value.Length >= prefix.Length && System.Text.Ascii.EqualsIgnoreCase(value[..prefix.Length], prefix);
}
