namespace Quiver.Core.VectorStores;

/// <summary>
/// A chunking strategy as requested (<c>auto</c> or <c>static</c>) and as resolved for the store's
/// embedding model (D9). The MKA1 dialect echoes what was requested; the OpenAI dialect echoes
/// the resolved static numbers.
/// </summary>
/// <param name="IsAuto">True when <c>auto</c> was requested (or nothing).</param>
/// <param name="MaxChunkSizeTokens">Resolved maximum chunk size in cl100k_base tokens.</param>
/// <param name="ChunkOverlapTokens">Resolved overlap in cl100k_base tokens.</param>
public sealed record ChunkingSpec(bool IsAuto, int MaxChunkSizeTokens, int ChunkOverlapTokens)
{
    public const int MinStaticSize = 100;
    public const int MaxStaticSize = 4096;

    /// <summary>A parsed request: null numbers mean auto.</summary>
    public sealed record Request(int? MaxChunkSizeTokens, int? ChunkOverlapTokens)
    {
        public static readonly Request Auto = new(null, null);

        public bool IsAuto => MaxChunkSizeTokens is null;

        /// <summary>Resolves auto to the model's numbers.</summary>
        public ChunkingSpec Resolve(int autoSize, int autoOverlap) =>
            IsAuto ? new ChunkingSpec(true, autoSize, autoOverlap) : new ChunkingSpec(false, MaxChunkSizeTokens!.Value, ChunkOverlapTokens!.Value);
    }
}
