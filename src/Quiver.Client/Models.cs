using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quiver.Client;

/// <summary>Values of <c>purpose</c> on a File.</summary>
public static class FilePurpose
{
    /// <summary><c>assistants</c> (the one for vector stores).</summary>
    public const string Assistants = "assistants";

    /// <summary><c>batch</c>.</summary>
    public const string Batch = "batch";

    /// <summary><c>fine-tune</c>.</summary>
    public const string FineTune = "fine-tune";

    /// <summary><c>vision</c>.</summary>
    public const string Vision = "vision";

    /// <summary><c>user_data</c>.</summary>
    public const string UserData = "user_data";

    /// <summary><c>evals</c> (list filter only; not accepted on upload).</summary>
    public const string Evals = "evals";
}

/// <summary>Statuses of a vector store file and of a file batch.</summary>
public static class VectorStoreFileStatus
{
    /// <summary>Still being processed.</summary>
    public const string InProgress = "in_progress";

    /// <summary>Indexed and searchable (a batch: all members terminal, not all failed).</summary>
    public const string Completed = "completed";

    /// <summary>Processing failed (a batch: every member failed).</summary>
    public const string Failed = "failed";

    /// <summary>Processing was cancelled.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>True for <c>completed</c>, <c>failed</c> and <c>cancelled</c>.</summary>
    public static bool IsTerminal(string? status) => status is Completed or Failed or Cancelled;
}

/// <summary>Statuses of a vector store.</summary>
public static class VectorStoreStatus
{
    /// <summary>Some files are still processing.</summary>
    public const string InProgress = "in_progress";

    /// <summary>Ready.</summary>
    public const string Completed = "completed";

    /// <summary>The store expired.</summary>
    public const string Expired = "expired";
}

/// <summary>A File (<c>object: "file"</c>).</summary>
public sealed record QuiverFile
{
    /// <summary><c>file-…</c> id.</summary>
    public string Id { get; init; } = "";

    /// <summary>Always <c>file</c>.</summary>
    public string Object { get; init; } = "file";

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; init; }

    /// <summary>Unix seconds.</summary>
    public long CreatedAt { get; init; }

    /// <summary>Name given at upload.</summary>
    public string Filename { get; init; } = "";

    /// <summary>See <see cref="FilePurpose"/>.</summary>
    public string Purpose { get; init; } = "";

    /// <summary>Unix seconds, or null.</summary>
    public long? ExpiresAt { get; init; }

    /// <summary>Deprecated: <c>uploaded</c> | <c>processed</c> | <c>error</c>.</summary>
    public string? Status { get; init; }

    /// <summary>Deprecated.</summary>
    public string? StatusDetails { get; init; }
}

/// <summary>Answer to a delete: <c>{id, object, deleted}</c>.</summary>
public sealed record DeletionStatus
{
    /// <summary>The deleted (or detached) object's id.</summary>
    public string Id { get; init; } = "";

    /// <summary><c>file</c>, <c>vector_store.deleted</c> or <c>vector_store.file.deleted</c>.</summary>
    public string Object { get; init; } = "";

    /// <summary>True when deleted.</summary>
    public bool Deleted { get; init; }
}

/// <summary>A page of a list: <c>{object:"list", data, first_id, last_id, has_more}</c>.</summary>
public sealed record ListPage<T>
{
    /// <summary>Always <c>list</c>.</summary>
    public string Object { get; init; } = "list";

    /// <summary>The items.</summary>
    public IReadOnlyList<T> Data { get; init; } = [];

    /// <summary>Id of the first item, or null.</summary>
    public string? FirstId { get; init; }

    /// <summary>Id of the last item (the next <c>after</c>), or null.</summary>
    public string? LastId { get; init; }

    /// <summary>True when more items follow.</summary>
    public bool HasMore { get; init; }
}

/// <summary><c>file_counts</c> of a store or batch.</summary>
public sealed record FileCounts
{
    /// <summary>Files still processing.</summary>
    public long InProgress { get; init; }

    /// <summary>Files indexed.</summary>
    public long Completed { get; init; }

    /// <summary>Files that failed.</summary>
    public long Failed { get; init; }

    /// <summary>Files cancelled.</summary>
    public long Cancelled { get; init; }

    /// <summary>All files.</summary>
    public long Total { get; init; }
}

/// <summary>An expiration policy: <c>{"anchor":"last_active_at","days":N}</c>.</summary>
public sealed record ExpiresAfter
{
    /// <summary>A policy of <paramref name="days"/> days after last activity.</summary>
    public ExpiresAfter(int days, string anchor = "last_active_at")
    {
        Days = days;
        Anchor = anchor;
    }

    /// <summary>Always <c>last_active_at</c>.</summary>
    public string Anchor { get; init; }

    /// <summary>1..365.</summary>
    public int Days { get; init; }
}

/// <summary>A vector store (<c>object: "vector_store"</c>, MKA1 reference §2.1).</summary>
public sealed record VectorStore
{
    /// <summary><c>vs_…</c> id.</summary>
    public string Id { get; init; } = "";

    /// <summary>Always <c>vector_store</c>.</summary>
    public string Object { get; init; } = "vector_store";

    /// <summary>Unix seconds.</summary>
    public long CreatedAt { get; init; }

    /// <summary>Name, or null.</summary>
    public string? Name { get; init; }

    /// <summary>MKA1: free-text purpose.</summary>
    public string? Description { get; init; }

    /// <summary>Bytes used by the store's completed files.</summary>
    public long UsageBytes { get; init; }

    /// <summary>Per-status file counts.</summary>
    public FileCounts FileCounts { get; init; } = new();

    /// <summary>See <see cref="VectorStoreStatus"/>.</summary>
    public string Status { get; init; } = "";

    /// <summary>Expiration policy, or null.</summary>
    public ExpiresAfter? ExpiresAfter { get; init; }

    /// <summary>Unix seconds of expiry, or null.</summary>
    public long? ExpiresAt { get; init; }

    /// <summary>Unix seconds of last activity.</summary>
    public long LastActiveAt { get; init; }

    /// <summary>MKA1: Unix seconds of last use (null when the server omits it).</summary>
    public long? LastUsedAt { get; init; }

    /// <summary>Metadata (string, number or boolean values).</summary>
    public IReadOnlyDictionary<string, AttributeValue> Metadata { get; init; } = new Dictionary<string, AttributeValue>();

    /// <summary>MKA1: the resolved embedding model (<c>provider:model</c>), null for legacy stores.</summary>
    public string? EmbeddingModel { get; init; }

    /// <summary>MKA1: vector dimensionality, null for legacy stores.</summary>
    public int? EmbeddingDimensions { get; init; }
}

/// <summary>The static block of a chunking strategy.</summary>
public sealed record StaticChunking
{
    /// <summary>100..4096 tokens.</summary>
    public int MaxChunkSizeTokens { get; init; }

    /// <summary>0..max/2 tokens.</summary>
    public int ChunkOverlapTokens { get; init; }
}

/// <summary>A chunking strategy: <c>{"type":"auto"}</c> or <c>{"type":"static","static":{…}}</c> (or <c>other</c> on responses).</summary>
public sealed record ChunkingStrategy
{
    /// <summary><c>auto</c>, <c>static</c> or <c>other</c>.</summary>
    public string Type { get; init; } = "auto";

    /// <summary>The sizes when <see cref="Type"/> is <c>static</c>.</summary>
    public StaticChunking? Static { get; init; }

    /// <summary><c>{"type":"auto"}</c>: the server picks sizes for the store's embedding model.</summary>
    public static ChunkingStrategy Auto { get; } = new();

    /// <summary>A static strategy.</summary>
    public static ChunkingStrategy CreateStatic(int maxChunkSizeTokens, int chunkOverlapTokens) => new()
    {
        Type = "static",
        Static = new StaticChunking { MaxChunkSizeTokens = maxChunkSizeTokens, ChunkOverlapTokens = chunkOverlapTokens },
    };
}

/// <summary><c>last_error</c> of a vector store file.</summary>
public sealed record VectorStoreFileError
{
    /// <summary><c>server_error</c>, <c>unsupported_file</c> or <c>invalid_file</c>.</summary>
    public string Code { get; init; } = "";

    /// <summary>Human-readable reason.</summary>
    public string Message { get; init; } = "";
}

/// <summary>A file attached to a vector store (<c>object: "vector_store.file"</c>, §2.4).</summary>
public sealed record VectorStoreFile
{
    /// <summary>The File id (<c>file-…</c>).</summary>
    public string Id { get; init; } = "";

    /// <summary>Always <c>vector_store.file</c>.</summary>
    public string Object { get; init; } = "vector_store.file";

    /// <summary>Store bytes of this file; 0 while in progress.</summary>
    public long UsageBytes { get; init; }

    /// <summary>Unix seconds.</summary>
    public long CreatedAt { get; init; }

    /// <summary>The store.</summary>
    public string VectorStoreId { get; init; } = "";

    /// <summary>See <see cref="VectorStoreFileStatus"/>.</summary>
    public string Status { get; init; } = "";

    /// <summary>Why it failed, or null.</summary>
    public VectorStoreFileError? LastError { get; init; }

    /// <summary>MKA1 echoes the requested strategy (<c>auto</c> or <c>static</c>).</summary>
    public ChunkingStrategy? ChunkingStrategy { get; init; }

    /// <summary>Attributes used by search filters.</summary>
    public IReadOnlyDictionary<string, AttributeValue>? Attributes { get; init; }
}

/// <summary>A file batch (<c>object: "vector_store.file_batch"</c>, §2.5).</summary>
public sealed record VectorStoreFileBatch
{
    /// <summary><c>vsfb_…</c> id.</summary>
    public string Id { get; init; } = "";

    /// <summary><c>vector_store.file_batch</c>.</summary>
    public string Object { get; init; } = "vector_store.file_batch";

    /// <summary>Unix seconds.</summary>
    public long CreatedAt { get; init; }

    /// <summary>The store.</summary>
    public string VectorStoreId { get; init; } = "";

    /// <summary>See <see cref="VectorStoreFileStatus"/>.</summary>
    public string Status { get; init; } = "";

    /// <summary>Per-status member counts.</summary>
    public FileCounts FileCounts { get; init; } = new();
}

/// <summary>A text content part <c>{type, text}</c>.</summary>
public sealed record ContentPart
{
    /// <summary>Always <c>text</c>.</summary>
    public string Type { get; init; } = "text";

    /// <summary>The text.</summary>
    public string Text { get; init; } = "";
}

/// <summary>MKA1 parsed content of a vector store file: <c>{file_id, filename, attributes, content[]}</c>.</summary>
public sealed record VectorStoreFileContent
{
    /// <summary>The File id.</summary>
    public string FileId { get; init; } = "";

    /// <summary>The File name.</summary>
    public string Filename { get; init; } = "";

    /// <summary>The file's attributes in this store.</summary>
    public IReadOnlyDictionary<string, AttributeValue>? Attributes { get; init; }

    /// <summary>The extracted text, in order.</summary>
    public IReadOnlyList<ContentPart> Content { get; init; } = [];
}

/// <summary>Ranking options of a search.</summary>
public sealed record RankingOptions
{
    /// <summary><c>auto</c> (hybrid), <c>default-2024-11-15</c>, or <c>none</c> (dense only).</summary>
    public string? Ranker { get; init; }

    /// <summary>0..1: results scoring below it are dropped.</summary>
    public double? ScoreThreshold { get; init; }
}

/// <summary>One search hit.</summary>
public sealed record VectorStoreSearchResult
{
    /// <summary>The File id.</summary>
    public string FileId { get; init; } = "";

    /// <summary>The File name.</summary>
    public string Filename { get; init; } = "";

    /// <summary>0..1, higher is better.</summary>
    public double Score { get; init; }

    /// <summary>The file's attributes.</summary>
    public IReadOnlyDictionary<string, AttributeValue>? Attributes { get; init; }

    /// <summary>The matching chunk text.</summary>
    public IReadOnlyList<ContentPart> Content { get; init; } = [];
}

/// <summary>Search answer (<c>object: "vector_store.search_results.page"</c>).</summary>
public sealed record VectorStoreSearchResults
{
    /// <summary><c>vector_store.search_results.page</c>.</summary>
    public string Object { get; init; } = "vector_store.search_results.page";

    /// <summary>The query actually used (after any rewrite; several queries joined with a space).</summary>
    [JsonConverter(typeof(JoinedStringConverter))]
    public string SearchQuery { get; init; } = "";

    /// <summary>Hits, best first.</summary>
    public IReadOnlyList<VectorStoreSearchResult> Data { get; init; } = [];

    /// <summary>True when more results follow.</summary>
    public bool HasMore { get; init; }

    /// <summary>Cursor of the next page, or null.</summary>
    public string? NextPage { get; init; }
}

/// <summary>Reads a string, or an array of strings joined with a space (OpenAI's <c>search_query</c> shape).</summary>
internal sealed class JoinedStringConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return reader.GetString() ?? "";
        }

        var parts = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            parts.Add(reader.GetString() ?? "");
        }

        return string.Join(' ', parts);
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
