using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiver.Core.Chunking;
using Quiver.Core.Embeddings;
using Quiver.Core.Errors;
using Quiver.Server.Contracts;

namespace Quiver.Server.Endpoints;

/// <summary>The embeddings API (MKA1 reference §5.1) over the configured models.</summary>
internal static class EmbeddingsEndpoints
{
    public const int MaxInputLength = 100_000;
    public const int MaxInputs = 2048;

    public static RouteGroupBuilder MapEmbeddings(this RouteGroupBuilder api, string namePrefix)
    {
        api.MapPost("/embeddings", CreateEmbeddingsAsync).WithName(namePrefix + "createEmbeddings").WithTags("Embeddings")
            .Accepts<EmbeddingsRequest>("application/json");
        api.MapGet("/embeddings/models", ListEmbeddingModels).WithName(namePrefix + "listEmbeddingModels").WithTags("Embeddings");
        api.MapGet("/models", ListModels).WithName(namePrefix + "listModels").WithTags("Embeddings");
        return api;
    }

    private static async Task<Results<Ok<EmbeddingsResponse>, Ok<EmbeddingsBase64Response>>> CreateEmbeddingsAsync(
        HttpRequest request, IEmbeddingModelRegistry models, CancellationToken ct)
    {
        var body = await JsonBody.ReadLargeObjectAsync(request, ct);
        var modelId = body.RequiredString("model", 200);
        if (!models.TryResolve(modelId, out var model))
        {
            throw ApiErrors.BadRequest(
                $"Unknown model '{ApiErrors.Truncate(modelId)}'. Use 'auto' or one of: {string.Join(", ", models.Models.Select(m => m.Id))}.", "model", "model_not_found");
        }

        var inputs = ReadInputs(body);
        if (body.Get("dimensions") is { ValueKind: not JsonValueKind.Null } dims
            && (!dims.TryGetInt32(out var d) || d != model.Info.Dimensions))
        {
            throw ApiErrors.BadRequest($"Model '{model.Info.Id}' produces {model.Info.Dimensions} dimensions and cannot be shortened; omit 'dimensions' or send {model.Info.Dimensions}.", "dimensions", "invalid_value");
        }

        var format = body.OptionalString("encoding_format", 16) ?? "float";
        if (format is not ("float" or "base64"))
        {
            throw ApiErrors.BadRequest($"Invalid 'encoding_format': '{ApiErrors.Truncate(format)}'. Expected 'float' or 'base64'.", "encoding_format", "invalid_value");
        }

        var vectors = await model.EmbedDocumentsAsync(inputs, ct);
        long tokens = inputs.Sum(i => (long)TextChunker.Instance.CountTokens(i));
        var usage = new EmbeddingUsage(tokens, tokens);
        return format == "float"
            ? TypedResults.Ok(new EmbeddingsResponse("list", [.. vectors.Select((v, i) => new EmbeddingItem("embedding", v, i))], model.Info.Id, usage))
            : TypedResults.Ok(new EmbeddingsBase64Response("list",
                [.. vectors.Select((v, i) => new EmbeddingBase64Item("embedding", Convert.ToBase64String(MemoryMarshal.AsBytes(v.AsSpan())), i))],
                model.Info.Id, usage));
    }

    private static List<string> ReadInputs(JsonElement body)
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

    private static Ok<SimpleList<EmbeddingModelObject>> ListEmbeddingModels(IEmbeddingModelRegistry models)
    {
        return TypedResults.Ok(new SimpleList<EmbeddingModelObject>("list", [.. models.Models.Select(m =>
            new EmbeddingModelObject(m.Id, m.Provider, m.Model, m.Dimensions, new EmbeddingModelLimits(m.MaxBatchSize, m.MaxInputTokens, MaxInputLength)))]));
    }

    private static Ok<SimpleList<ModelObject>> ListModels(IEmbeddingModelRegistry models)
    {
        return TypedResults.Ok(new SimpleList<ModelObject>("list", [.. models.Models.Select(m => new ModelObject(m.Id, "model", 0, m.Provider))]));
    }
}
