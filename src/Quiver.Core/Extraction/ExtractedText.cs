namespace Quiver.Core.Extraction;

/// <summary>The normalised text of a document, ready for chunking.</summary>
/// <param name="Text">Normalised text: NFC, LF line endings, one blank line between paragraphs, never empty.</param>
/// <param name="Format">The format the text was extracted as.</param>
/// <param name="MimeType">The detected MIME type.</param>
/// <param name="PageCount">Pages of a PDF or slides of a PPTX; null for formats without pages.</param>
internal sealed record ExtractedText(string Text, DocumentKind Format, string MimeType, int? PageCount = null);
