using System.Text.Json;
using Quiver.Core.Embeddings;
using Quiver.Core.Errors;
using Quiver.Server.Endpoints;

namespace Quiver.Server.Contracts;

/// <summary>One embedding as a float array.</summary>
public sealed record EmbeddingItem(string Object, float[] Embedding, int Index);

/// <summary>One embedding as base64 of little-endian float32 (<c>encoding_format=base64</c>).</summary>
public sealed record EmbeddingBase64Item(string Object, string Embedding, int Index);

/// <summary>Token usage of an embeddings call (cl100k_base tokens).</summary>
public sealed record EmbeddingUsage(long PromptTokens, long TotalTokens);

/// <summary>Answer of <c>POST /embeddings</c> with float vectors.</summary>
public sealed record EmbeddingsResponse(string Object, IReadOnlyList<EmbeddingItem> Data, string Model, EmbeddingUsage Usage);

/// <summary>Answer of <c>POST /embeddings</c> with base64 vectors.</summary>
public sealed record EmbeddingsBase64Response(string Object, IReadOnlyList<EmbeddingBase64Item> Data, string Model, EmbeddingUsage Usage);

/// <summary>Body of <c>POST /embeddings</c>; <see cref="Parse"/> validates it against the configured models.</summary>
/// <param name="Input">One string or an array of 1 to 2048 strings, each 1 to 100,000 characters: a union, so declared as any JSON value.</param>
/// <param name="Model">A configured model id, or <c>auto</c>.</param>
/// <param name="Dimensions">Only the model's own dimension count is accepted (vectors are not shortened).</param>
/// <param name="EncodingFormat"><c>float</c> (default) or <c>base64</c>.</param>
/// <param name="User">Accepted and ignored.</param>
public sealed record EmbeddingsRequest(JsonElement Input, string Model, int? Dimensions, string? EncodingFormat, string? User)
{
    public const int MaxInputLength = 100_000;
    public const int MaxInputs = 2048;

    /// <summary>The validated request: the resolved model, the texts in order, and whether to answer in base64.</summary>
    internal sealed record Parsed(EmbeddingModel Model, IReadOnlyList<string> Inputs, bool Base64);

    /// <summary>Checks <c>model</c> first (an unknown model is named before anything else), then <c>input</c>, <c>dimensions</c> and <c>encoding_format</c>.</summary>
    internal static Parsed Parse(JsonElement body, IEmbeddingModelRegistry models)
    {
        var modelId = body.RequiredString("model", 200);
        if (!models.TryResolve(modelId, out var model))
        {
            throw ApiErrors.BadRequest(
                $"Unknown model '{ApiErrors.Truncate(modelId)}'. Use 'auto' or one of: {string.Join(", ", models.Models.Select(m => m.Id))}.", "model", "model_not_found");
        }

        var inputs = ParseInputs(body);
        if (body.Get("dimensions") is { ValueKind: not JsonValueKind.Null } dims
            && (dims.ValueKind != JsonValueKind.Number || !dims.TryGetInt32(out var d) || d != model.Info.Dimensions))
        {
            throw ApiErrors.BadRequest($"Model '{model.Info.Id}' produces {model.Info.Dimensions} dimensions and cannot be shortened; omit 'dimensions' or send {model.Info.Dimensions}.", "dimensions", "invalid_value");
        }

        var format = body.OptionalString("encoding_format", 16) ?? "float";
        if (format is not ("float" or "base64"))
        {
            throw ApiErrors.BadRequest($"Invalid 'encoding_format': '{ApiErrors.Truncate(format)}'. Expected 'float' or 'base64'.", "encoding_format", "invalid_value");
        }

        return new Parsed(model, inputs, format == "base64");
    }

    private static List<string> ParseInputs(JsonElement body)
    {
        var input = body.Get("input") ?? throw ApiErrors.BadRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter");
        List<string> inputs = input.ValueKind switch
        {
            JsonValueKind.String => [input.GetString()!],
            JsonValueKind.Array => body.OptionalStringArray("input")!.ToList(),
            _ => throw JsonBody.InvalidType("input", "a string or an array of strings", input),
        };

        if (inputs.Count is 0 or > MaxInputs)
        {
            throw ApiErrors.BadRequest($"Invalid 'input': expected 1 to {MaxInputs} strings, got {inputs.Count}.", "input", "invalid_value");
        }

        foreach (var text in inputs)
        {
            if (text.Length is 0 or > MaxInputLength)
            {
                throw ApiErrors.BadRequest($"Invalid 'input': each string must be 1 to {MaxInputLength} characters.", "input", "invalid_value");
            }
        }

        return inputs;
    }
}

/// <summary>Per-model limits (MKA1 reference §5.1).</summary>
public sealed record EmbeddingModelLimits(int MaxBatchSize, int MaxInputTokens, int MaxInputLength);

/// <summary>An entry of <c>GET /embeddings/models</c>.</summary>
public sealed record EmbeddingModelObject(string Id, string Provider, string Model, int Dimensions, EmbeddingModelLimits Limits);

/// <summary>An entry of the OpenAI-style <c>GET /models</c>.</summary>
public sealed record ModelObject(string Id, string Object, long Created, string OwnedBy);

/// <summary>A plain list without cursors.</summary>
public sealed record SimpleList<T>(string Object, IReadOnlyList<T> Data);
