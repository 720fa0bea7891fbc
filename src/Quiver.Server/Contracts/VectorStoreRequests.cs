using System.Text.Json;

namespace Quiver.Server.Contracts;

// Request shapes for the OpenAPI document. Bodies are parsed from JSON by hand (Endpoints/JsonBody)
// so each field gets an exact error; these records describe what is accepted.

/// <summary>Body of create vector store.</summary>
public sealed record CreateVectorStoreRequest(
    string? Name,
    string? Description,
    IReadOnlyList<string>? FileIds,
    ExpiresAfterObject? ExpiresAfter,
    JsonElement? ChunkingStrategy,
    IReadOnlyDictionary<string, JsonElement>? Metadata,
    string? EmbeddingModel);

/// <summary>Body of modify vector store; omitted fields keep their values, <c>expires_after: null</c> removes the policy.</summary>
public sealed record UpdateVectorStoreRequest(
    string? Name,
    string? Description,
    ExpiresAfterObject? ExpiresAfter,
    IReadOnlyDictionary<string, JsonElement>? Metadata);

/// <summary>Body of attach file.</summary>
public sealed record CreateVectorStoreFileRequest(string FileId, IReadOnlyDictionary<string, JsonElement>? Attributes, JsonElement? ChunkingStrategy);

/// <summary>Body of update file attributes.</summary>
public sealed record UpdateVectorStoreFileRequest(IReadOnlyDictionary<string, JsonElement>? Attributes);

/// <summary>One entry of <c>files</c> in a batch.</summary>
public sealed record BatchFileEntry(string FileId, IReadOnlyDictionary<string, JsonElement>? Attributes, JsonElement? ChunkingStrategy);

/// <summary>Body of create file batch: exactly one of <c>file_ids</c> or <c>files</c>.</summary>
public sealed record CreateFileBatchRequest(
    IReadOnlyList<string>? FileIds,
    IReadOnlyList<BatchFileEntry>? Files,
    IReadOnlyDictionary<string, JsonElement>? Attributes,
    JsonElement? ChunkingStrategy);
