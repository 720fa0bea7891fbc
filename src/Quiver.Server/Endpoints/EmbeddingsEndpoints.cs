using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http.HttpResults;
using Quiver.Core.Chunking;
using Quiver.Core.Embeddings;
using Quiver.Server.Contracts;

namespace Quiver.Server.Endpoints;

/// <summary>The embeddings API (MKA1 reference §5.1) over the configured models.</summary>
internal static class EmbeddingsEndpoints
{
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
        var (model, inputs, base64) = EmbeddingsRequest.Parse(await JsonBody.ReadLargeObjectAsync(request, ct), models);
        var vectors = await model.EmbedDocumentsAsync(inputs, ct);
        long tokens = inputs.Sum(i => (long)TextChunker.Instance.CountTokens(i));
        var usage = new EmbeddingUsage(tokens, tokens);
        return base64
            ? TypedResults.Ok(new EmbeddingsBase64Response("list",
                [.. vectors.Select((v, i) => new EmbeddingBase64Item("embedding", Convert.ToBase64String(MemoryMarshal.AsBytes(v.AsSpan())), i))],
                model.Info.Id, usage))
            : TypedResults.Ok(new EmbeddingsResponse("list", [.. vectors.Select((v, i) => new EmbeddingItem("embedding", v, i))], model.Info.Id, usage));
    }

    private static Ok<SimpleList<EmbeddingModelObject>> ListEmbeddingModels(IEmbeddingModelRegistry models)
    {
        return TypedResults.Ok(new SimpleList<EmbeddingModelObject>("list", [.. models.Models.Select(m =>
            new EmbeddingModelObject(m.Id, m.Provider, m.Model, m.Dimensions, new EmbeddingModelLimits(m.MaxBatchSize, m.MaxInputTokens, EmbeddingsRequest.MaxInputLength)))]));
    }

    private static Ok<SimpleList<ModelObject>> ListModels(IEmbeddingModelRegistry models)
    {
        return TypedResults.Ok(new SimpleList<ModelObject>("list", [.. models.Models.Select(m => new ModelObject(m.Id, "model", 0, m.Provider))]));
    }
}
