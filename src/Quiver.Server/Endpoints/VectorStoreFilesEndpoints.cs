using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Quiver.Core.Idempotency;
using Quiver.Core.VectorStores;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;
using Quiver.Server.Hosting;

namespace Quiver.Server.Endpoints;

/// <summary>Files in a vector store (MKA1 reference §3.7–3.12).</summary>
internal static class VectorStoreFilesEndpoints
{
    public static RouteGroupBuilder MapVectorStoreFiles(this RouteGroupBuilder api, string namePrefix)
    {
        var files = api.MapGroup("/vector_stores/{vector_store_id}/files").WithTags("Vector store files");
        files.MapPost("", AttachFileAsync).WithName(namePrefix + "createVectorStoreFile").Accepts<CreateVectorStoreFileRequest>("application/json");
        files.MapGet("", ListVectorStoreFilesAsync).WithName(namePrefix + "listVectorStoreFiles");
        files.MapGet("/{file_id}", RetrieveVectorStoreFileAsync).WithName(namePrefix + "retrieveVectorStoreFile");
        files.MapPost("/{file_id}", UpdateVectorStoreFileAsync).WithName(namePrefix + "updateVectorStoreFileAttributes").Accepts<UpdateVectorStoreFileRequest>("application/json");
        files.MapDelete("/{file_id}", DetachFileAsync).WithName(namePrefix + "deleteVectorStoreFile");
        files.MapGet("/{file_id}/content", RetrieveParsedContentAsync).WithName(namePrefix + "retrieveVectorStoreFileContent");
        return files;
    }

    private static async Task<Ok<VectorStoreFileObject>> AttachFileAsync(
        RequestContext rc, string vector_store_id, HttpRequest request, VectorStoreService service, IIdempotencyStore idempotency, TimeProvider time, CancellationToken ct)
    {
        var storeId = PathIds.Store(vector_store_id);
        var scope = $"vector_stores/{storeId}/files";
        var raw = await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct);
        var key = IdempotencyKeys.Read(request);
        var attach = CreateVectorStoreFileRequest.Parse(raw);
        var hash = IdempotencyKeys.Hash(scope, raw.GetRawText());
        if (await IdempotencyKeys.FindAsync(idempotency, rc.Principal, scope, key, hash, ct) is { } replayed)
        {
            return TypedResults.Ok(VectorStoreFileObject.From(await service.GetFileAsync(rc.Principal, storeId, replayed, ct), rc.Dialect));
        }

        var file = await service.AttachFileAsync(rc.Principal, storeId, attach, ct);
        await IdempotencyKeys.RecordAsync(idempotency, time, rc.Principal, scope, key, hash, file.FileId, ct);
        return TypedResults.Ok(VectorStoreFileObject.From(file, rc.Dialect));
    }

    private static async Task<Ok<ListResponse<VectorStoreFileObject>>> ListVectorStoreFilesAsync(
        RequestContext rc, string vector_store_id, [AsParameters] ListQuery query, [FromQuery] string? filter,
        VectorStoreService service, CancellationToken ct)
    {
        var storeId = PathIds.Store(vector_store_id);
        var page = await service.ListFilesAsync(rc.Principal, storeId, PathIds.StatusFilter(filter), query.Validate(), ct);
        return TypedResults.Ok(ListResponses.Create(page, f => VectorStoreFileObject.From(f, rc.Dialect), f => f.FileId));
    }

    private static async Task<Ok<VectorStoreFileObject>> RetrieveVectorStoreFileAsync(
        RequestContext rc, string vector_store_id, string file_id, VectorStoreService service, HttpResponse response, CancellationToken ct)
    {
        var file = await service.GetFileAsync(rc.Principal, PathIds.Store(vector_store_id), PathIds.File(file_id), ct);
        PollHint.Apply(response, file.Status);
        return TypedResults.Ok(VectorStoreFileObject.From(file, rc.Dialect));
    }

    private static async Task<Ok<VectorStoreFileObject>> UpdateVectorStoreFileAsync(
        RequestContext rc, string vector_store_id, string file_id, HttpRequest request, VectorStoreService service, CancellationToken ct)
    {
        var storeId = PathIds.Store(vector_store_id);
        var fileId = PathIds.File(file_id);
        var attributes = UpdateVectorStoreFileRequest.Parse(await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct));
        var file = await service.UpdateFileAttributesAsync(rc.Principal, storeId, fileId, attributes, ct);
        return TypedResults.Ok(VectorStoreFileObject.From(file, rc.Dialect));
    }

    private static async Task<Ok<VectorStoreFileDeleted>> DetachFileAsync(
        RequestContext rc, string vector_store_id, string file_id, VectorStoreService service, CancellationToken ct)
    {
        var fileId = PathIds.File(file_id);
        await service.DetachFileAsync(rc.Principal, PathIds.Store(vector_store_id), fileId, ct);
        return TypedResults.Ok(new VectorStoreFileDeleted(fileId, "vector_store.file.deleted", true));
    }

    /// <summary>D1: MKA1 returns <c>{file_id, filename, attributes, content}</c>; OpenAI a content page.</summary>
    private static async Task<Results<Ok<FileContentObject>, Ok<FileContentPage>>> RetrieveParsedContentAsync(
        RequestContext rc, string vector_store_id, string file_id, VectorStoreService service, CancellationToken ct)
    {
        var content = await service.GetParsedContentAsync(rc.Principal, PathIds.Store(vector_store_id), PathIds.File(file_id), ct);
        IReadOnlyList<ContentPart> parts = content.Text.Length == 0 ? [] : [new ContentPart("text", content.Text)];
        return rc.Dialect == Dialect.Mka1
            ? TypedResults.Ok(new FileContentObject(content.FileId, content.Filename, content.Attributes.Values, parts))
            : TypedResults.Ok(new FileContentPage("vector_store.file_content.page", parts, false, null));
    }
}
