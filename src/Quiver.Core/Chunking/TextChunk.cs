namespace Quiver.Core.Chunking;

/// <summary>One chunk produced by <see cref="TextChunker"/>.</summary>
/// <param name="Index">Zero-based position of the chunk in the document.</param>
/// <param name="Text">The source text covered by the chunk's token range, sliced as is (not trimmed).</param>
/// <param name="TokenCount">Number of cl100k_base tokens in the chunk's range of the whole-document tokenization.</param>
internal readonly record struct TextChunk(int Index, string Text, int TokenCount);
