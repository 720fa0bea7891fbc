using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Quiver.Core.Extraction;

/// <summary>
/// Detects a file's type from its first bytes and name, runs the matching extractor under the
/// limits in <see cref="ExtractionOptions"/>, and normalises the result.
/// </summary>
/// <remarks>
/// Parsers are synchronous and CPU-bound, so extraction runs on the thread pool. The wall-clock
/// budget is a cancellation token the extractors check between pages, parts and rows; the caller
/// also stops waiting when it expires, so one pathological page cannot hold an ingestion worker
/// past the budget even if the parser never reaches a check (the abandoned parse then fails on
/// its closed stream). Any parser failure other than cancellation becomes
/// <see cref="ExtractionException.InvalidFile"/> with a fixed message; the parser's own message
/// goes only to the log because it can contain internals.
/// </remarks>
internal sealed partial class DocumentExtractor(IOptions<ExtractionOptions> options, ILogger<DocumentExtractor> logger)
    : IDocumentExtractor
{
    private readonly ExtractionOptions _options = options.Value;

    /// <inheritdoc/>
    public async Task<ExtractedText> ExtractAsync(string path, string filename, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();

        // Opening the file stays outside the error mapping: a missing or unreadable file is a
        // server fault, not the user's.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 64 * 1024, FileOptions.SequentialScan);
        try
        {
            if (stream.Length == 0)
            {
                throw ExtractionException.Invalid("The file is empty.");
            }

            var buffer = new byte[FileTypeDetector.HeadLength];
            var headLength = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
            var head = buffer.AsMemory(0, headLength);
            var type = FileTypeDetector.Detect(filename, head.Span);
            if (type.Format == DocumentKind.Unsupported)
            {
                throw ExtractionException.Unsupported(
                    $"Files of type {type.MimeType} cannot be searched. Supported: plain text, Markdown, HTML, JSON, CSV/TSV, source code, PDF, DOCX, PPTX and XLSX.");
            }

            using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (_options.TimeoutSeconds > 0)
            {
                budget.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
            }
            else
            {
                // No budget at all: expire now rather than racing a zero-delay timer.
                await budget.CancelAsync();
            }
            var work = Task.Run(() => ExtractFormat(stream, head, type, budget.Token), budget.Token);
            try
            {
                var (raw, pages) = await work.WaitAsync(budget.Token);
                var text = TextNormalizer.Normalize(raw, preserveIndentation: type.Format == DocumentKind.SourceCode);
                if (text.Length == 0)
                {
                    throw ExtractionException.Invalid(type.Format == DocumentKind.Pdf
                        ? "No text could be extracted from the PDF. It may contain only scanned images; text recognition (OCR) is not supported."
                        : "The file contains no text to index.");
                }

                return new ExtractedText(text, type.Format, type.MimeType, pages);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                ObserveAbandoned(work);
                throw ExtractionException.Invalid(
                    $"Extracting text took longer than {_options.TimeoutSeconds:N0} seconds; the document may be damaged or too complex. Try saving it again or splitting it.");
            }
            catch (OperationCanceledException)
            {
                ObserveAbandoned(work);
                throw;
            }
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    private (string Text, int? Pages) ExtractFormat(Stream stream, ReadOnlyMemory<byte> head, FileTypeInfo type, CancellationToken ct)
    {
        var sink = new BoundedTextBuilder(_options.MaxCharacters);
        try
        {
            var pages = ExtractInto(stream, head.Span, type, sink, ct);
            return (sink.ToString(), pages);
        }
        catch (Exception ex) when (ex is not (ExtractionException or OperationCanceledException or OutOfMemoryException))
        {
            if (ct.IsCancellationRequested)
            {
                // The caller gave up (budget or shutdown) and closed the stream under the parser.
                throw new OperationCanceledException(ct);
            }

            LogUnreadable(logger, type.Format, ex);
            throw ExtractionException.Invalid(UnreadableMessage(type.Format), ex);
        }
    }

    private int? ExtractInto(Stream stream, ReadOnlySpan<byte> head, FileTypeInfo type, BoundedTextBuilder sink, CancellationToken ct)
    {
        var format = type.Format;
        switch (format)
        {
            case DocumentKind.PlainText or DocumentKind.Markdown or DocumentKind.SourceCode:
                using (var reader = TextDecoding.OpenReader(stream, head))
                {
                    TextDecoding.CopyTo(reader, sink, ct);
                }

                return null;

            case DocumentKind.Html:
                stream.Position = 0;
                HtmlTextExtractor.Extract(stream, sink, ct);
                return null;

            case DocumentKind.Json:
                if (!JsonTextExtractor.TryExtract(stream, sink, ct))
                {
                    // Malformed JSON is still worth indexing as the text it is.
                    using var reader = TextDecoding.OpenReader(stream, head);
                    TextDecoding.CopyTo(reader, sink, ct);
                }

                return null;

            case DocumentKind.Csv:
                using (var reader = TextDecoding.OpenReader(stream, head))
                {
                    var tabSeparated = type.MimeType == "text/tab-separated-values";
                    DelimitedTextExtractor.Extract(reader, tabSeparated, sink, ct);
                }

                return null;

            case DocumentKind.Pdf:
                return PdfTextExtractor.Extract(stream, _options, sink, ct);

            case DocumentKind.Docx or DocumentKind.Pptx or DocumentKind.Xlsx:
                if (head.StartsWith(FileTypeDetector.CompoundFileSignature))
                {
                    throw ExtractionException.Invalid(
                        "The Office document is password-protected (or is an old binary .doc/.xls/.ppt file renamed). Remove the password or save it in the current format and upload it again.");
                }

                OoxmlPackageGuard.Inspect(stream, _options, ct);
                switch (format)
                {
                    case DocumentKind.Docx:
                        DocxTextExtractor.Extract(stream, _options, sink, ct);
                        return null;
                    case DocumentKind.Pptx:
                        return PptxTextExtractor.Extract(stream, _options, sink, ct);
                    default:
                        XlsxTextExtractor.Extract(stream, _options, sink, ct);
                        return null;
                }

            default:
                throw ExtractionException.Unsupported("This file type cannot be searched.");
        }
    }

    private static string UnreadableMessage(DocumentKind format) => format switch
    {
        DocumentKind.Pdf => "The PDF could not be read; it appears to be damaged. Try saving or printing it to a new PDF and upload it again.",
        DocumentKind.Docx => "The Word document could not be read; it appears to be damaged or is not really a .docx file.",
        DocumentKind.Pptx => "The PowerPoint presentation could not be read; it appears to be damaged or is not really a .pptx file.",
        DocumentKind.Xlsx => "The Excel workbook could not be read; it appears to be damaged or is not really a .xlsx file.",
        DocumentKind.Html => "The HTML file could not be read.",
        _ => "The file could not be read as text.",
    };

    /// <summary>
    /// An abandoned parse may still fail later (typically on the closed stream); observing the
    /// fault keeps it from surfacing as an unobserved task exception.
    /// </summary>
    private static void ObserveAbandoned(Task work) =>
        _ = work.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not extract text from a {Format} file")]
    private static partial void LogUnreadable(ILogger logger, DocumentKind format, Exception exception);
}
