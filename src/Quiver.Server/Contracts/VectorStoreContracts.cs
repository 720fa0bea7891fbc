using System.Text.Json;
using System.Text.Json.Serialization;
using Quiver.Core.VectorStores;
using Quiver.Server.Hosting;

namespace Quiver.Server.Contracts;

/// <summary><c>file_counts</c> of a store or batch; always adds up to <c>total</c>.</summary>
public sealed record FileCountsObject(long InProgress, long Completed, long Failed, long Cancelled, long Total)
{
    internal static FileCountsObject From(FileCounts c) => new(c.InProgress, c.Completed, c.Failed, c.Cancelled, c.Total);
}

/// <summary>An expiration policy: <c>{"anchor":"last_active_at","days":N}</c>.</summary>
public sealed record ExpiresAfterObject(string Anchor, int Days);

/// <summary>The vector store object (MKA1 reference §2.1; the OpenAI dialect ignores the extra fields).</summary>
public sealed record VectorStoreObject(
    string Id,
    string Object,
    long CreatedAt,
    string? Name,
    string? Description,
    long UsageBytes,
    FileCountsObject FileCounts,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ExpiresAfterObject? ExpiresAfter,
    long? ExpiresAt,
    long LastActiveAt,
    long LastUsedAt,
    IReadOnlyDictionary<string, JsonElement> Metadata,
    string EmbeddingModel,
    int EmbeddingDimensions)
{
    internal static VectorStoreObject From(VectorStoreRecord s, long now) => new(
        s.Id, "vector_store", s.CreatedAt, s.Name, s.Description, s.UsageBytes, FileCountsObject.From(s.FileCounts), s.Status(now),
        s.ExpiresAfterDays is { } days ? new ExpiresAfterObject("last_active_at", days) : null,
        s.ExpiresAt, s.LastActiveAt, s.LastActiveAt, s.Metadata.Values, s.EmbeddingModel, s.EmbeddingDimensions);
}

/// <summary>Answer to a store delete.</summary>
public sealed record VectorStoreDeleted(string Id, string Object, bool Deleted);

/// <summary><c>last_error</c> of a vector store file.</summary>
public sealed record LastErrorObject(string Code, string Message);

/// <summary>The static block of a chunking strategy.</summary>
public sealed record StaticChunkingObject(int MaxChunkSizeTokens, int ChunkOverlapTokens);

/// <summary>A chunking strategy as echoed on a file: <c>{"type":"auto"}</c> or <c>{"type":"static","static":{…}}</c>.</summary>
public sealed record ChunkingStrategyObject(
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] StaticChunkingObject? Static)
{
    /// <summary>D1: MKA1 echoes what was requested; OpenAI always gets the resolved static numbers.</summary>
    internal static ChunkingStrategyObject From(ChunkingSpec spec, Dialect dialect) =>
        dialect == Dialect.Mka1 && spec.IsAuto
            ? new("auto", null)
            : new("static", new StaticChunkingObject(spec.MaxChunkSizeTokens, spec.ChunkOverlapTokens));
}

/// <summary>The vector store file object (MKA1 reference §2.4).</summary>
public sealed record VectorStoreFileObject(
    string Id,
    string Object,
    long UsageBytes,
    long CreatedAt,
    string VectorStoreId,
    string Status,
    LastErrorObject? LastError,
    ChunkingStrategyObject ChunkingStrategy,
    IReadOnlyDictionary<string, JsonElement> Attributes)
{
    internal static VectorStoreFileObject From(VectorStoreFileRecord f, Dialect dialect, string? statusOverride = null) => new(
        f.FileId, "vector_store.file", f.UsageBytes, f.CreatedAt, f.VectorStoreId, statusOverride ?? f.Status,
        f.LastErrorCode is { } code ? new LastErrorObject(code, f.LastErrorMessage ?? "") : null,
        ChunkingStrategyObject.From(f.Chunking, dialect), f.Attributes.Values);
}

/// <summary>Answer to a detach.</summary>
public sealed record VectorStoreFileDeleted(string Id, string Object, bool Deleted);

/// <summary>The file batch object (MKA1 reference §2.5); <c>object</c> differs per dialect (D1).</summary>
public sealed record FileBatchObject(string Id, string Object, long CreatedAt, string VectorStoreId, string Status, FileCountsObject FileCounts)
{
    internal static FileBatchObject From(FileBatchRecord b, Dialect dialect) => new(
        b.Id, dialect == Dialect.Mka1 ? "vector_store.file_batch" : "vector_store.files_batch",
        b.CreatedAt, b.VectorStoreId, b.Status, FileCountsObject.From(b.FileCounts));
}

/// <summary>A text content part.</summary>
public sealed record ContentPart(string Type, string Text);

/// <summary>MKA1 parsed content: <c>{file_id, filename, attributes, content:[…]}</c>.</summary>
public sealed record FileContentObject(string FileId, string Filename, IReadOnlyDictionary<string, JsonElement> Attributes, IReadOnlyList<ContentPart> Content);

/// <summary>OpenAI parsed content page: <c>{object, data, has_more, next_page}</c>.</summary>
public sealed record FileContentPage(string Object, IReadOnlyList<ContentPart> Data, bool HasMore, string? NextPage);
