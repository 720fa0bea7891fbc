using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Quiver.Core.Errors;
using Quiver.Core.Ids;
using Quiver.Core.VectorStores;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;

namespace Quiver.Server.Endpoints;

/// <summary>File batches (MKA1 reference §3.13–3.16): create, retrieve, cancel, list files.</summary>
internal static class FileBatchesEndpoints
{
    public const int MaxBatchFiles = 2000;
    public const int MaxIdempotencyKeyLength = 255;

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
        RequestContext rc, string vector_store_id, HttpRequest request, VectorStoreService service, CancellationToken ct)
    {
        var storeId = PathIds.Store(vector_store_id);
        var body = await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct);
        var idempotencyKey = request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } key ? key : null;
        if (idempotencyKey?.Length > MaxIdempotencyKeyLength)
        {
            throw ApiErrors.BadRequest($"The Idempotency-Key header is limited to {MaxIdempotencyKeyLength} characters.", "Idempotency-Key", "invalid_value");
        }

        var hasIds = body.Get("file_ids") is { ValueKind: not JsonValueKind.Null };
        var hasFiles = body.Get("files") is { ValueKind: not JsonValueKind.Null };
        if (hasIds == hasFiles)
        {
            throw ApiErrors.BadRequest(hasIds
                ? "Send either 'file_ids' or 'files', not both."
                : "Missing required parameter: send 'file_ids' (with optional root 'attributes' and 'chunking_strategy') or 'files'.",
                hasIds ? "files" : "file_ids", hasIds ? "invalid_value" : "missing_required_parameter");
        }

        var files = hasIds ? ParseFileIds(body) : ParseFiles(body);
        var param = hasIds ? "file_ids" : "files";
        if (files.Count is 0 or > MaxBatchFiles)
        {
            throw ApiErrors.BadRequest($"Invalid '{param}': expected 1 to {MaxBatchFiles} files, got {files.Count}.", param,
                files.Count == 0 ? "empty_array" : "array_above_max_length");
        }

        var duplicate = files.GroupBy(f => f.FileId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw ApiErrors.BadRequest($"Invalid '{param}': file '{duplicate.Key}' appears more than once. Each file may appear once per batch.", param, "duplicate_file");
        }

        var batch = await service.CreateBatchAsync(rc.Principal, storeId, files, idempotencyKey, ct);
        return TypedResults.Ok(FileBatchObject.From(batch, rc.Dialect));
    }

    private static List<AttachRequest> ParseFileIds(JsonElement body)
    {
        var attributes = AttributeMap.Parse(body.Get("attributes"), "attributes");
        var chunking = ChunkingSpec.Parse(body.Get("chunking_strategy"), "chunking_strategy");
        return [.. body.OptionalStringArray("file_ids")!.Select(id => new AttachRequest(IdValidator.Require(id, IdPrefixes.File, "file_ids"), attributes, chunking))];
    }

    /// <summary>With <c>files</c>, each entry's own attributes and chunking apply; root ones are ignored (MKA1 reference §3.13).</summary>
    private static List<AttachRequest> ParseFiles(JsonElement body)
    {
        var files = body.Get("files")!.Value;
        if (files.ValueKind != JsonValueKind.Array)
        {
            throw JsonBody.InvalidType("files", "an array of objects", files);
        }

        var result = new List<AttachRequest>(files.GetArrayLength());
        foreach (var entry in files.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object)
            {
                throw JsonBody.InvalidType($"files[{result.Count}]", "an object with 'file_id'", entry);
            }

            if (entry.Get("file_id") is not { ValueKind: JsonValueKind.String } fileId)
            {
                throw ApiErrors.BadRequest($"Missing required parameter: 'files[{result.Count}].file_id'.", "files", "missing_required_parameter");
            }

            result.Add(new AttachRequest(
                IdValidator.Require(fileId.GetString(), IdPrefixes.File, "files"),
                AttributeMap.Parse(entry.Get("attributes"), "files"),
                ChunkingSpec.Parse(entry.Get("chunking_strategy"), "files")));
        }

        return result;
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
