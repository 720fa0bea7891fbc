using System.Text;

namespace Quiver.Core.Extraction;

/// <summary>
/// Picks the encoding of a text file: a byte-order mark wins (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
/// without one the file is read as UTF-8, or as Windows-1252/Latin-1 when its first bytes are
/// not valid UTF-8 (old exports from Windows tools are the usual case).
/// </summary>
internal static class TextDecoding
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Returns the encoding of a file starting with <paramref name="head"/> and the length of its BOM.</summary>
    public static (Encoding Encoding, int BomLength) Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return (new UTF8Encoding(false), 3);
        }

        // UTF-32 LE must be tested before UTF-16 LE: its BOM starts with the UTF-16 LE one.
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]))
        {
            return (new UTF32Encoding(bigEndian: false, byteOrderMark: false), 4);
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]))
        {
            return (new UTF32Encoding(bigEndian: true, byteOrderMark: false), 4);
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return (new UnicodeEncoding(bigEndian: false, byteOrderMark: false), 2);
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return (new UnicodeEncoding(bigEndian: true, byteOrderMark: false), 2);
        }

        return (IsUtf8(head) ? new UTF8Encoding(false) : Encoding.Latin1, 0);
    }

    /// <summary>True when the bytes have a UTF-16 or UTF-32 byte-order mark.</summary>
    public static bool HasWideBom(ReadOnlySpan<byte> head) =>
        head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])
        || head.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]);

    /// <summary>True when the bytes are valid UTF-8, allowing a character cut off at the end.</summary>
    public static bool IsUtf8(ReadOnlySpan<byte> head)
    {
        try
        {
            var decoder = StrictUtf8.GetDecoder();
            decoder.GetCharCount(head, flush: false);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>
    /// Opens a reader over <paramref name="stream"/> (positioned at the start) that skips the BOM.
    /// Invalid sequences later in the file become U+FFFD rather than failing the whole file.
    /// </summary>
    public static StreamReader OpenReader(Stream stream, ReadOnlySpan<byte> head)
    {
        var (encoding, bomLength) = Detect(head);
        stream.Position = bomLength;
        return new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024, leaveOpen: true);
    }

    /// <summary>Reads the whole text into <paramref name="sink"/>, checking the size limit and cancellation as it goes.</summary>
    public static void CopyTo(TextReader reader, BoundedTextBuilder sink, CancellationToken ct)
    {
        var buffer = new char[64 * 1024];
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            sink.Append(buffer.AsSpan(0, read));
        }
    }
}
