using System.Collections.Frozen;

namespace Quiver.Core.Extraction;

/// <summary>The detected MIME type and document format of a file.</summary>
public readonly record struct FileTypeInfo(string MimeType, DocumentFormat Format);

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
        [".txt"] = new("text/plain", DocumentFormat.PlainText),
        [".text"] = new("text/plain", DocumentFormat.PlainText),
        [".log"] = new("text/plain", DocumentFormat.PlainText),
        [".md"] = new("text/markdown", DocumentFormat.Markdown),
        [".markdown"] = new("text/markdown", DocumentFormat.Markdown),
        [".html"] = new("text/html", DocumentFormat.Html),
        [".htm"] = new("text/html", DocumentFormat.Html),
        [".json"] = new("application/json", DocumentFormat.Json),
        [".jsonl"] = new("application/jsonl", DocumentFormat.Json),
        [".csv"] = new("text/csv", DocumentFormat.Csv),
        [".tsv"] = new("text/tab-separated-values", DocumentFormat.Csv),
        [".pdf"] = new("application/pdf", DocumentFormat.Pdf),
        [".docx"] = new("application/vnd.openxmlformats-officedocument.wordprocessingml.document", DocumentFormat.Docx),
        [".pptx"] = new("application/vnd.openxmlformats-officedocument.presentationml.presentation", DocumentFormat.Pptx),
        [".xlsx"] = new("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", DocumentFormat.Xlsx),
        [".c"] = new("text/x-c", DocumentFormat.SourceCode),
        [".h"] = new("text/x-c", DocumentFormat.SourceCode),
        [".cpp"] = new("text/x-c++", DocumentFormat.SourceCode),
        [".hpp"] = new("text/x-c++", DocumentFormat.SourceCode),
        [".cc"] = new("text/x-c++", DocumentFormat.SourceCode),
        [".cs"] = new("text/x-csharp", DocumentFormat.SourceCode),
        [".java"] = new("text/x-java", DocumentFormat.SourceCode),
        [".py"] = new("text/x-python", DocumentFormat.SourceCode),
        [".rb"] = new("text/x-ruby", DocumentFormat.SourceCode),
        [".go"] = new("text/x-golang", DocumentFormat.SourceCode),
        [".rs"] = new("text/x-rust", DocumentFormat.SourceCode),
        [".js"] = new("text/javascript", DocumentFormat.SourceCode),
        [".mjs"] = new("text/javascript", DocumentFormat.SourceCode),
        [".ts"] = new("application/typescript", DocumentFormat.SourceCode),
        [".tsx"] = new("application/typescript", DocumentFormat.SourceCode),
        [".php"] = new("text/x-php", DocumentFormat.SourceCode),
        [".sh"] = new("application/x-sh", DocumentFormat.SourceCode),
        [".sql"] = new("application/sql", DocumentFormat.SourceCode),
        [".css"] = new("text/css", DocumentFormat.SourceCode),
        [".xml"] = new("application/xml", DocumentFormat.SourceCode),
        [".yaml"] = new("application/yaml", DocumentFormat.SourceCode),
        [".yml"] = new("application/yaml", DocumentFormat.SourceCode),
        [".toml"] = new("application/toml", DocumentFormat.SourceCode),
        [".tex"] = new("text/x-tex", DocumentFormat.SourceCode),
        [".kt"] = new("text/x-kotlin", DocumentFormat.SourceCode),
        [".swift"] = new("text/x-swift", DocumentFormat.SourceCode),
        [".png"] = new("image/png", DocumentFormat.Unsupported),
        [".jpg"] = new("image/jpeg", DocumentFormat.Unsupported),
        [".jpeg"] = new("image/jpeg", DocumentFormat.Unsupported),
        [".gif"] = new("image/gif", DocumentFormat.Unsupported),
        [".webp"] = new("image/webp", DocumentFormat.Unsupported),
        [".zip"] = new("application/zip", DocumentFormat.Unsupported),
        [".gz"] = new("application/gzip", DocumentFormat.Unsupported),
        [".mp3"] = new("audio/mpeg", DocumentFormat.Unsupported),
        [".mp4"] = new("video/mp4", DocumentFormat.Unsupported),
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly FileTypeInfo OctetStream = new("application/octet-stream", DocumentFormat.Unsupported);
    private static readonly FileTypeInfo UnknownText = new("text/plain", DocumentFormat.PlainText);

    /// <summary>Detects the type of a file named <paramref name="filename"/> starting with <paramref name="head"/>.</summary>
    public static FileTypeInfo Detect(string filename, ReadOnlySpan<byte> head)
    {
        var extension = Path.GetExtension(filename);
        ByExtension.TryGetValue(extension, out var byExtension);

        if (head.StartsWith("%PDF-"u8))
        {
            return ByExtension[".pdf"];
        }

        if (head.StartsWith("PK\x03\x04"u8))
        {
            // OOXML documents are ZIP files; only the extension says which one.
            return byExtension.Format is DocumentFormat.Docx or DocumentFormat.Pptx or DocumentFormat.Xlsx
                ? byExtension
                : ByExtension[".zip"];
        }

        if (head.StartsWith("\x89PNG\r\n\x1a\n"u8))
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
            return byExtension.Format is not DocumentFormat.Unsupported and not DocumentFormat.Pdf
                and not DocumentFormat.Docx and not DocumentFormat.Pptx and not DocumentFormat.Xlsx
                && LooksBinary(head)
                ? OctetStream
                : byExtension;
        }

        return head.Length > 0 && !LooksBinary(head) ? UnknownText : OctetStream;
    }

    /// <summary>True when the bytes contain NUL or are not valid UTF-8 (allowing a truncated last character).</summary>
    private static bool LooksBinary(ReadOnlySpan<byte> head)
    {
        if (head.Contains((byte)0))
        {
            return true;
        }

        var status = System.Text.Unicode.Utf8.ToUtf16(head, new char[head.Length], out var read, out _, replaceInvalidSequences: false, isFinalBlock: false);
        return status == System.Buffers.OperationStatus.InvalidData && read < head.Length;
    }
}
