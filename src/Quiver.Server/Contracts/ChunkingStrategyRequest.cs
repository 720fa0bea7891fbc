using System.Text.Json;
using Quiver.Core.Errors;
using Quiver.Core.VectorStores;
using Quiver.Server.Endpoints;

namespace Quiver.Server.Contracts;

/// <summary>A requested <c>chunking_strategy</c>: <c>{"type": "auto"}</c> or <c>{"type": "static", "static": {...}}</c>.</summary>
public sealed record ChunkingStrategyRequest(string Type, StaticChunkingRequest? Static)
{
    /// <summary>Validates a <c>chunking_strategy</c> value; absent or null means auto. Errors name <paramref name="param"/>.</summary>
    internal static ChunkingSpec.Request Parse(JsonElement? element, string param)
    {
        if (element is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return ChunkingSpec.Request.Auto;
        }

        if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw ApiErrors.BadRequest($"Invalid '{param}': expected {{\"type\": \"auto\"}} or {{\"type\": \"static\", \"static\": {{...}}}}.", param, "invalid_value");
        }

        switch (type.GetString())
        {
            case "auto":
                return ChunkingSpec.Request.Auto;
            case "static":
                if (value.Get("static") is not { ValueKind: JsonValueKind.Object } block)
                {
                    throw ApiErrors.BadRequest($"Invalid '{param}': a static strategy needs a 'static' object with 'max_chunk_size_tokens' and 'chunk_overlap_tokens'.", param, "invalid_value");
                }

                var max = ReadInt(block, "max_chunk_size_tokens", param);
                var overlap = ReadInt(block, "chunk_overlap_tokens", param);
                if (max is < ChunkingSpec.MinStaticSize or > ChunkingSpec.MaxStaticSize)
                {
                    throw ApiErrors.BadRequest($"Invalid '{param}.static.max_chunk_size_tokens': {max}. Expected {ChunkingSpec.MinStaticSize} to {ChunkingSpec.MaxStaticSize}.", param, "invalid_value");
                }

                if (overlap < 0 || overlap > max / 2)
                {
                    throw ApiErrors.BadRequest($"Invalid '{param}.static.chunk_overlap_tokens': {overlap}. Expected 0 to half of max_chunk_size_tokens ({max / 2}).", param, "invalid_value");
                }

                return new ChunkingSpec.Request(max, overlap);
            default:
                throw ApiErrors.BadRequest($"Invalid '{param}.type': '{ApiErrors.Truncate(type.GetString()!)}'. Expected 'auto' or 'static'.", param, "invalid_value");
        }
    }

    private static int ReadInt(JsonElement block, string name, string param) =>
        block.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n)
            ? n
            : throw ApiErrors.BadRequest($"Invalid '{param}.static.{name}': expected an integer.", param, "invalid_value");
}

/// <summary>The numbers of a static chunking strategy, in cl100k_base tokens.</summary>
public sealed record StaticChunkingRequest(int MaxChunkSizeTokens, int ChunkOverlapTokens);
