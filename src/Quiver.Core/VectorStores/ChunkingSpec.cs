using System.Text.Json;
using Quiver.Core.Errors;

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

    /// <summary>Validates a <c>chunking_strategy</c> value; absent or null means auto.</summary>
    public static Request Parse(JsonElement? element, string param)
    {
        if (element is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return Request.Auto;
        }

        if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw ApiErrors.BadRequest($"Invalid '{param}': expected {{\"type\": \"auto\"}} or {{\"type\": \"static\", \"static\": {{...}}}}.", param, "invalid_value");
        }

        switch (type.GetString())
        {
            case "auto":
                return Request.Auto;
            case "static":
                if (!value.TryGetProperty("static", out var block) || block.ValueKind != JsonValueKind.Object)
                {
                    throw ApiErrors.BadRequest($"Invalid '{param}': a static strategy needs a 'static' object with 'max_chunk_size_tokens' and 'chunk_overlap_tokens'.", param, "invalid_value");
                }

                var max = ReadInt(block, "max_chunk_size_tokens", param);
                var overlap = ReadInt(block, "chunk_overlap_tokens", param);
                if (max is < MinStaticSize or > MaxStaticSize)
                {
                    throw ApiErrors.BadRequest($"Invalid '{param}.static.max_chunk_size_tokens': {max}. Expected {MinStaticSize} to {MaxStaticSize}.", param, "invalid_value");
                }

                if (overlap < 0 || overlap > max / 2)
                {
                    throw ApiErrors.BadRequest($"Invalid '{param}.static.chunk_overlap_tokens': {overlap}. Expected 0 to half of max_chunk_size_tokens ({max / 2}).", param, "invalid_value");
                }

                return new Request(max, overlap);
            default:
                throw ApiErrors.BadRequest($"Invalid '{param}.type': '{ApiErrors.Truncate(type.GetString()!)}'. Expected 'auto' or 'static'.", param, "invalid_value");
        }
    }

    private static int ReadInt(JsonElement block, string name, string param) =>
        block.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n)
            ? n
            : throw ApiErrors.BadRequest($"Invalid '{param}.static.{name}': expected an integer.", param, "invalid_value");
}
