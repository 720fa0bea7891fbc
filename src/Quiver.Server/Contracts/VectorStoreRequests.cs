using System.Text.Json;
using Quiver.Core.Errors;
using Quiver.Core.Ids;
using Quiver.Core.VectorStores;
using Quiver.Server.Endpoints;

namespace Quiver.Server.Contracts;

// Request bodies. Each record documents what is accepted (the OpenAPI document) and owns its one parser:
// Parse reads the JSON body field by field, so "missing", "null" and "wrong type" each get an exact,
// parameter-named error, and returns the validated Core input the handler passes on.

/// <summary>Body of create vector store.</summary>
public sealed record CreateVectorStoreRequest(
    string? Name,
    string? Description,
    IReadOnlyList<string>? FileIds,
    ExpiresAfterObject? ExpiresAfter,
    ChunkingStrategyRequest? ChunkingStrategy,
    IReadOnlyDictionary<string, JsonElement>? Metadata,
    string? EmbeddingModel)
{
    /// <summary>Most files accepted in <c>file_ids</c> on create (the batch limit).</summary>
    public const int MaxFileIds = 2000;

    /// <summary>The validated request: <paramref name="Files"/> are the distinct <c>file_ids</c>, each with the root chunking.</summary>
    internal sealed record Parsed(string? Name, string? Description, AttributeMap Metadata, int? ExpiresAfterDays, string? EmbeddingModel, IReadOnlyList<AttachRequest> Files);

    internal static Parsed Parse(JsonElement body)
    {
        var name = body.OptionalString("name", VectorStoreService.MaxNameLength);
        var description = body.OptionalString("description", VectorStoreService.MaxDescriptionLength);
        var metadata = AttributesParser.Parse(body.Get("metadata"), "metadata");
        var (_, days) = body.ExpiresAfter(VectorStoreService.MinExpiryDays, VectorStoreService.MaxExpiryDays);
        var model = body.OptionalString("embedding_model", 200);
        var chunking = ChunkingStrategyRequest.Parse(body.Get("chunking_strategy"), "chunking_strategy");
        var fileIds = body.OptionalStringArray("file_ids") ?? [];
        if (fileIds.Count > MaxFileIds)
        {
            throw ApiErrors.BadRequest($"Invalid 'file_ids': at most {MaxFileIds} files, got {fileIds.Count}. Add more with file batches.", "file_ids", "array_above_max_length");
        }

        var files = fileIds.Distinct(StringComparer.Ordinal)
            .Select(id => new AttachRequest(IdValidator.Require(id, IdPrefixes.File, "file_ids"), AttributeMap.Empty, chunking))
            .ToList();
        return new Parsed(name, description, metadata, days, model, files);
    }
}

/// <summary>Body of modify vector store; omitted fields keep their values, <c>expires_after: null</c> removes the policy.</summary>
public sealed record UpdateVectorStoreRequest(
    string? Name,
    string? Description,
    ExpiresAfterObject? ExpiresAfter,
    IReadOnlyDictionary<string, JsonElement>? Metadata)
{
    internal static VectorStoreUpdate Parse(JsonElement body)
    {
        if (body.Get("embedding_model") is not null || body.Get("embedding_dimensions") is not null)
        {
            throw ApiErrors.BadRequest("The embedding model of a vector store is fixed at creation; create a new store to change it.", "embedding_model", "invalid_value");
        }

        var (setExpiry, days) = body.ExpiresAfter(VectorStoreService.MinExpiryDays, VectorStoreService.MaxExpiryDays);
        return new VectorStoreUpdate(
            body.Get("name") is not null, body.OptionalString("name", VectorStoreService.MaxNameLength),
            body.Get("description") is not null, body.OptionalString("description", VectorStoreService.MaxDescriptionLength),
            body.Get("metadata") is not null, AttributesParser.Parse(body.Get("metadata"), "metadata"),
            setExpiry, days);
    }
}

/// <summary>Body of attach file.</summary>
public sealed record CreateVectorStoreFileRequest(string FileId, IReadOnlyDictionary<string, JsonElement>? Attributes, ChunkingStrategyRequest? ChunkingStrategy)
{
    internal static AttachRequest Parse(JsonElement body)
    {
        var fileId = IdValidator.Require(body.RequiredString("file_id", 100), IdPrefixes.File, "file_id");
        return new AttachRequest(fileId,
            AttributesParser.Parse(body.Get("attributes"), "attributes"),
            ChunkingStrategyRequest.Parse(body.Get("chunking_strategy"), "chunking_strategy"));
    }
}

/// <summary>Body of update file attributes.</summary>
public sealed record UpdateVectorStoreFileRequest(IReadOnlyDictionary<string, JsonElement>? Attributes)
{
    /// <summary>The new attributes; <c>attributes</c> is required (null clears them).</summary>
    internal static AttributeMap Parse(JsonElement body) =>
        body.Get("attributes") is { } attributes
            ? AttributesParser.Parse(attributes, "attributes")
            : throw ApiErrors.BadRequest("Missing required parameter: 'attributes' (send null to clear them).", "attributes", "missing_required_parameter");
}

/// <summary>One entry of <c>files</c> in a batch.</summary>
public sealed record BatchFileEntry(string FileId, IReadOnlyDictionary<string, JsonElement>? Attributes, ChunkingStrategyRequest? ChunkingStrategy);

/// <summary>Body of create file batch: exactly one of <c>file_ids</c> or <c>files</c>.</summary>
public sealed record CreateFileBatchRequest(
    IReadOnlyList<string>? FileIds,
    IReadOnlyList<BatchFileEntry>? Files,
    IReadOnlyDictionary<string, JsonElement>? Attributes,
    ChunkingStrategyRequest? ChunkingStrategy)
{
    public const int MaxFiles = 2000;

    /// <summary>D7: exactly one of <c>file_ids</c> or <c>files</c>, 1..2000 unique files.</summary>
    internal static IReadOnlyList<AttachRequest> Parse(JsonElement body)
    {
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
        if (files.Count is 0 or > MaxFiles)
        {
            throw ApiErrors.BadRequest($"Invalid '{param}': expected 1 to {MaxFiles} files, got {files.Count}.", param,
                files.Count == 0 ? "empty_array" : "array_above_max_length");
        }

        var duplicate = files.GroupBy(f => f.FileId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw ApiErrors.BadRequest($"Invalid '{param}': file '{duplicate.Key}' appears more than once. Each file may appear once per batch.", param, "duplicate_file");
        }

        return files;
    }

    private static List<AttachRequest> ParseFileIds(JsonElement body)
    {
        var attributes = AttributesParser.Parse(body.Get("attributes"), "attributes");
        var chunking = ChunkingStrategyRequest.Parse(body.Get("chunking_strategy"), "chunking_strategy");
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
                AttributesParser.Parse(entry.Get("attributes"), "files"),
                ChunkingStrategyRequest.Parse(entry.Get("chunking_strategy"), "files")));
        }

        return result;
    }
}
