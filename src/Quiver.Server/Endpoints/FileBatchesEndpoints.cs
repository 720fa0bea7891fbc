using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Quiver.Core.Idempotency;
using Quiver.Core.VectorStores;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;

namespace Quiver.Server.Endpoints;

/// <summary>File batches (MKA1 reference §3.13–3.16): create, retrieve, cancel, list files.</summary>
internal static class FileBatchesEndpoints
{

    public static RouteGroupBuilder MapFileBatches(this RouteGroupBuilder api, string namePrefix)
    {
        var batches = api.MapGroup("/vector_stores/{vector_store_id}/file_batches").WithTags("File batches");
        batches.MapPost("", CreateFileBatchAsync).WithName(namePrefix + "createVectorStoreFileBatch").Accepts<CreateFileBatchRequest>("application/json");
        batches.MapGet("/{batch_id}", RetrieveFileBatchAsync).WithName(namePrefix + "retrieveVectorStoreFileBatch");
        batches.MapPost("/{batch_id}/cancel", CancelFileBatchAsync).WithName(namePrefix + "cancelVectorStoreFileBatch");
        batches.MapGet("/{batch_id}/files", ListFilesInBatchAsync).WithName(namePrefix + "listFilesInVectorStoreBatch");
        return batches;
    }

    /// <summary>D7: exactly one of <c>file_ids</c> or <c>files</c>, 1..2000 unique visible files; all or nothing.</summary>
    private static async Task<Ok<FileBatchObject>> CreateFileBatchAsync(
        RequestContext rc, string vector_store_id, HttpRequest request, VectorStoreService service, IIdempotencyStore idempotency, TimeProvider time, CancellationToken ct)
    {
        var storeId = PathIds.Store(vector_store_id);
        var scope = $"vector_stores/{storeId}/file_batches";
        var body = await JsonBody.ReadLargeObjectAsync(request, ct);
        var idempotencyKey = IdempotencyKeys.Read(request);
        var files = CreateFileBatchRequest.Parse(body);
        // The batch row carries its key (a same-key retry is answered with that batch by the repository); the
        // idempotency record adds the request hash, so the same key with another body is refused as elsewhere.
        var hash = IdempotencyKeys.Hash(scope, body.GetRawText());
        await IdempotencyKeys.FindAsync(idempotency, rc.Principal, scope, idempotencyKey, hash, ct);
        var batch = await service.CreateBatchAsync(rc.Principal, storeId, files, idempotencyKey, ct);
        await IdempotencyKeys.RecordAsync(idempotency, time, rc.Principal, scope, idempotencyKey, hash, batch.Id, ct);
        return TypedResults.Ok(FileBatchObject.From(batch, rc.Dialect));
    }

    private static async Task<Ok<FileBatchObject>> RetrieveFileBatchAsync(
        RequestContext rc, string vector_store_id, string batch_id, VectorStoreService service, HttpResponse response, CancellationToken ct)
    {
        var storeId = PathIds.Store(vector_store_id);
        var batch = await service.GetBatchAsync(rc.Principal, storeId, PathIds.Batch(batch_id), ct);
        PollHint.Apply(response, batch.Status);
        return TypedResults.Ok(FileBatchObject.From(batch, rc.Dialect));
    }

    /// <summary>D6: settles at once; the answer already shows <c>in_progress: 0</c>. Repeat and late cancels are 200s.</summary>
    private static async Task<Ok<FileBatchObject>> CancelFileBatchAsync(
        RequestContext rc, string vector_store_id, string batch_id, VectorStoreService service, CancellationToken ct)
    {
        var storeId = PathIds.Store(vector_store_id);
        var batch = await service.CancelBatchAsync(rc.Principal, storeId, PathIds.Batch(batch_id), ct);
        return TypedResults.Ok(FileBatchObject.From(batch, rc.Dialect));
    }

    private static async Task<Ok<ListResponse<VectorStoreFileObject>>> ListFilesInBatchAsync(
        RequestContext rc, string vector_store_id, string batch_id, [AsParameters] ListQuery query, [FromQuery] string? filter,
        VectorStoreService service, CancellationToken ct)
    {
        var storeId = PathIds.Store(vector_store_id);
        var batchId = PathIds.Batch(batch_id);
        var page = await service.ListBatchFilesAsync(rc.Principal, storeId, batchId, PathIds.StatusFilter(filter), query.Validate(), ct);
        // A member's status is its own: a file re-attached by a later batch shows as it ended in this one.
        return TypedResults.Ok(ListResponses.Create(page, m => VectorStoreFileObject.From(m.File, rc.Dialect, m.MemberStatus), m => m.File.FileId));
    }
}
