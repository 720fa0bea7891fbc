using Microsoft.AspNetCore.Http.HttpResults;
using Quiver.Core.Errors;
using Quiver.Core.Idempotency;
using Quiver.Core.Ids;
using Quiver.Core.VectorStores;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;

namespace Quiver.Server.Endpoints;

/// <summary>Vector stores (MKA1 reference §3.1–3.5): create, list, retrieve, modify, delete.</summary>
internal static class VectorStoresEndpoints
{
    public static RouteGroupBuilder MapVectorStores(this RouteGroupBuilder api, string namePrefix)
    {
        var stores = api.MapGroup("/vector_stores").WithTags("Vector stores");
        stores.MapPost("", CreateVectorStoreAsync).WithName(namePrefix + "createVectorStore").Accepts<CreateVectorStoreRequest>("application/json");
        stores.MapGet("", ListVectorStoresAsync).WithName(namePrefix + "listVectorStores");
        stores.MapGet("/{vector_store_id}", RetrieveVectorStoreAsync).WithName(namePrefix + "retrieveVectorStore");
        stores.MapPost("/{vector_store_id}", ModifyVectorStoreAsync).WithName(namePrefix + "modifyVectorStore").Accepts<UpdateVectorStoreRequest>("application/json");
        stores.MapDelete("/{vector_store_id}", DeleteVectorStoreAsync).WithName(namePrefix + "deleteVectorStore");
        return stores;
    }

    private static async Task<Ok<VectorStoreObject>> CreateVectorStoreAsync(
        RequestContext rc, HttpRequest request, VectorStoreService service, IIdempotencyStore idempotency, TimeProvider time, CancellationToken ct)
    {
        const string scope = "vector_stores";
        var raw = await JsonBody.ReadObjectAsync(request, allowEmpty: true, ct);
        var key = IdempotencyKeys.Read(request);
        var body = CreateVectorStoreRequest.Parse(raw);
        var hash = IdempotencyKeys.Hash(scope, raw.GetRawText());
        if (await IdempotencyKeys.FindAsync(idempotency, rc.Principal, scope, key, hash, ct) is { } replayed)
        {
            return TypedResults.Ok(VectorStoreObject.From(await service.GetStoreAsync(rc.Principal, replayed, ct), time.GetUtcNow().ToUnixTimeSeconds()));
        }

        var store = await service.CreateStoreAsync(rc.Principal, body.Name, body.Description, body.Metadata, body.ExpiresAfterDays, body.EmbeddingModel, body.Files, ct);
        await IdempotencyKeys.RecordAsync(idempotency, time, rc.Principal, scope, key, hash, store.Id, ct);
        return TypedResults.Ok(VectorStoreObject.From(store, time.GetUtcNow().ToUnixTimeSeconds()));
    }

    private static async Task<Ok<ListResponse<VectorStoreObject>>> ListVectorStoresAsync(
        RequestContext rc, [AsParameters] ListQuery query, VectorStoreService service, TimeProvider time, CancellationToken ct)
    {
        var page = await service.ListStoresAsync(rc.Principal, query.Validate(), ct);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return TypedResults.Ok(ListResponses.Create(page, s => VectorStoreObject.From(s, now), s => s.Id));
    }

    private static async Task<Ok<VectorStoreObject>> RetrieveVectorStoreAsync(
        RequestContext rc, string vector_store_id, VectorStoreService service, TimeProvider time, HttpResponse response, CancellationToken ct)
    {
        var store = await service.GetStoreAsync(rc.Principal, PathIds.Store(vector_store_id), ct);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        PollHint.Apply(response, store.Status(now));
        return TypedResults.Ok(VectorStoreObject.From(store, now));
    }

    private static async Task<Ok<VectorStoreObject>> ModifyVectorStoreAsync(
        RequestContext rc, string vector_store_id, HttpRequest request, VectorStoreService service, TimeProvider time, CancellationToken ct)
    {
        var id = PathIds.Store(vector_store_id);
        var update = UpdateVectorStoreRequest.Parse(await JsonBody.ReadObjectAsync(request, allowEmpty: true, ct));
        var store = await service.UpdateStoreAsync(rc.Principal, id, update, ct);
        return TypedResults.Ok(VectorStoreObject.From(store, time.GetUtcNow().ToUnixTimeSeconds()));
    }

    private static async Task<Ok<VectorStoreDeleted>> DeleteVectorStoreAsync(
        RequestContext rc, string vector_store_id, VectorStoreService service, CancellationToken ct)
    {
        var id = PathIds.Store(vector_store_id);
        await service.DeleteStoreAsync(rc.Principal, id, ct);
        return TypedResults.Ok(new VectorStoreDeleted(id, "vector_store.deleted", true));
    }
}

/// <summary>Path id checks shared by the vector store routes (D2).</summary>
internal static class PathIds
{
    public static string Store(string value) => IdValidator.Require(value, IdPrefixes.VectorStore, "vector_store_id");

    public static string File(string value) => IdValidator.Require(value, IdPrefixes.File, "file_id");

    public static string Batch(string value) => IdValidator.Require(value, IdPrefixes.FileBatch, "batch_id");

    /// <summary>The <c>filter</c> query value of file lists: one of the four statuses.</summary>
    public static string? StatusFilter(string? value) =>
        value is null or "" ? null
        : VectorStoreFileStatus.IsValid(value) ? value
        : throw ApiErrors.BadRequest($"Invalid 'filter': '{ApiErrors.Truncate(value)}'. Expected one of: in_progress, completed, failed, cancelled.", "filter", "invalid_value");
}

/// <summary>Builds list envelopes from pages.</summary>
internal static class ListResponses
{
    public static ListResponse<TOut> Create<TIn, TOut>(Core.Paging.Page<TIn> page, Func<TIn, TOut> map, Func<TIn, string> id) =>
        new("list", [.. page.Items.Select(map)],
            page.Items.Count > 0 ? id(page.Items[0]) : null,
            page.Items.Count > 0 ? id(page.Items[^1]) : null,
            page.HasMore);
}

/// <summary>Client polling hint (DECISIONS, SDK traps): sent on GETs of objects still in progress.</summary>
internal static class PollHint
{
    public const string Header = "openai-poll-after-ms";
    public const string Milliseconds = "500";

    public static void Apply(HttpResponse response, string status)
    {
        if (status == VectorStoreFileStatus.InProgress)
        {
            response.Headers[Header] = Milliseconds;
        }
    }
}
