using System.Text.Json.Serialization;

namespace Quiver.Client;

/// <summary>Body of create vector store (all optional; MKA1 reference §3.1).</summary>
public sealed class CreateVectorStoreRequest
{
    /// <summary>Name (≤ 256 chars).</summary>
    public string? Name { get; set; }

    /// <summary>MKA1: free-text purpose (≤ 512 chars).</summary>
    public string? Description { get; set; }

    /// <summary>Files to ingest at once.</summary>
    public IList<string>? FileIds { get; set; }

    /// <summary>Expiration policy.</summary>
    public ExpiresAfter? ExpiresAfter { get; set; }

    /// <summary>Chunking for <see cref="FileIds"/>; auto when null.</summary>
    public ChunkingStrategy? ChunkingStrategy { get; set; }

    /// <summary>≤ 16 pairs of string, number or boolean values.</summary>
    public IDictionary<string, AttributeValue>? Metadata { get; set; }

    /// <summary>MKA1: <c>auto</c> (server default) or a <c>provider:model</c> id; fixed for the store's life.</summary>
    public string? EmbeddingModel { get; set; }
}

/// <summary>Body of modify vector store; null fields keep their values.</summary>
public sealed class UpdateVectorStoreRequest
{
    /// <summary>New name.</summary>
    public string? Name { get; set; }

    /// <summary>New description.</summary>
    public string? Description { get; set; }

    /// <summary>New expiration policy (see <see cref="RemoveExpiresAfter"/> to clear it).</summary>
    public ExpiresAfter? ExpiresAfter { get; set; }

    /// <summary>When true, sends <c>"expires_after": null</c> to remove the policy.</summary>
    [JsonIgnore]
    public bool RemoveExpiresAfter { get; set; }

    /// <summary>Replacement metadata.</summary>
    public IDictionary<string, AttributeValue>? Metadata { get; set; }
}

/// <summary>Body of attach file to a store (§3.7).</summary>
public sealed class CreateVectorStoreFileRequest
{
    /// <summary>Attach <paramref name="fileId"/>.</summary>
    public CreateVectorStoreFileRequest(string fileId) => FileId = fileId;

    /// <summary>The File to attach.</summary>
    public string FileId { get; set; }

    /// <summary>Attributes for search filters.</summary>
    public IDictionary<string, AttributeValue>? Attributes { get; set; }

    /// <summary>Chunking; auto when null.</summary>
    public ChunkingStrategy? ChunkingStrategy { get; set; }
}

/// <summary>One entry of <see cref="CreateFileBatchRequest.Files"/>: a file with its own attributes and chunking.</summary>
public sealed class FileBatchEntry
{
    /// <summary>An entry for <paramref name="fileId"/>.</summary>
    public FileBatchEntry(string fileId) => FileId = fileId;

    /// <summary>The File.</summary>
    public string FileId { get; set; }

    /// <summary>Attributes of this file.</summary>
    public IDictionary<string, AttributeValue>? Attributes { get; set; }

    /// <summary>Chunking of this file.</summary>
    public ChunkingStrategy? ChunkingStrategy { get; set; }
}

/// <summary>Body of create file batch: exactly one of <see cref="FileIds"/> or <see cref="Files"/> (§3.13).</summary>
public sealed class CreateFileBatchRequest
{
    /// <summary>Files sharing the root <see cref="Attributes"/> and <see cref="ChunkingStrategy"/>.</summary>
    public IList<string>? FileIds { get; set; }

    /// <summary>Files with per-file settings (root ones are ignored by the server in this mode).</summary>
    public IList<FileBatchEntry>? Files { get; set; }

    /// <summary>Attributes for every file of <see cref="FileIds"/>.</summary>
    public IDictionary<string, AttributeValue>? Attributes { get; set; }

    /// <summary>Chunking for every file of <see cref="FileIds"/>.</summary>
    public ChunkingStrategy? ChunkingStrategy { get; set; }
}

/// <summary>Body of search (§3.6).</summary>
public sealed class SearchVectorStoreRequest
{
    /// <summary>A search for <paramref name="query"/> (a string, or several strings).</summary>
    public SearchVectorStoreRequest(SearchQuery query) => Query = query;

    /// <summary>One query or several.</summary>
    public SearchQuery Query { get; set; }

    /// <summary>1..50, server default 10.</summary>
    public int? MaxNumResults { get; set; }

    /// <summary>Attribute filter, applied before the top-k cut.</summary>
    public Filter? Filters { get; set; }

    /// <summary>Ranker and score threshold.</summary>
    public RankingOptions? RankingOptions { get; set; }

    /// <summary>Rewrite the query before searching; the response's <c>search_query</c> shows what was used.</summary>
    public bool? RewriteQuery { get; set; }
}

/// <summary>Sort order of lists (by <c>created_at</c>).</summary>
public enum ListOrder
{
    /// <summary>Newest first (server default).</summary>
    Desc,

    /// <summary>Oldest first.</summary>
    Asc,
}

/// <summary>Paging of vector store lists (<c>limit</c> 1..100, default 20).</summary>
public sealed class ListOptions
{
    /// <summary>Page size.</summary>
    public int? Limit { get; set; }

    /// <summary>Sort order.</summary>
    public ListOrder? Order { get; set; }

    /// <summary>Start after this id.</summary>
    public string? After { get; set; }

    /// <summary>End before this id.</summary>
    public string? Before { get; set; }
}

/// <summary>Paging and filter of vector store file lists (store files, batch files).</summary>
public sealed class VectorStoreFileListOptions
{
    /// <summary>Page size (1..100).</summary>
    public int? Limit { get; set; }

    /// <summary>Sort order.</summary>
    public ListOrder? Order { get; set; }

    /// <summary>Start after this file id.</summary>
    public string? After { get; set; }

    /// <summary>End before this file id.</summary>
    public string? Before { get; set; }

    /// <summary>Only files in this status (see <see cref="VectorStoreFileStatus"/>).</summary>
    public string? Filter { get; set; }
}

/// <summary>Paging and filter of the Files list (<c>limit</c> 1..10000, default 10000; no <c>before</c>).</summary>
public sealed class FileListOptions
{
    /// <summary>Page size.</summary>
    public int? Limit { get; set; }

    /// <summary>Sort order.</summary>
    public ListOrder? Order { get; set; }

    /// <summary>Start after this file id.</summary>
    public string? After { get; set; }

    /// <summary>Only files with this purpose.</summary>
    public string? Purpose { get; set; }
}

/// <summary>A file to upload and attach with <see cref="VectorStoresClient.UploadAndPollAsync(string, IEnumerable{UploadItem}, string, PollOptions?, RequestOptions?, CancellationToken)"/>.</summary>
public sealed class UploadItem
{
    /// <summary>An upload of <paramref name="content"/> named <paramref name="filename"/>; the stream is read, not disposed.</summary>
    public UploadItem(Stream content, string filename)
    {
        Content = content;
        Filename = filename;
    }

    /// <summary>The bytes.</summary>
    public Stream Content { get; }

    /// <summary>The name.</summary>
    public string Filename { get; }

    /// <summary>Attributes of this file in the store.</summary>
    public IDictionary<string, AttributeValue>? Attributes { get; set; }

    /// <summary>Chunking of this file.</summary>
    public ChunkingStrategy? ChunkingStrategy { get; set; }
}

/// <summary>Raw bytes of a File; dispose it to release the connection.</summary>
public sealed class FileContentResponse : IDisposable, IAsyncDisposable
{
    private readonly HttpResponseMessage _response;

    internal FileContentResponse(HttpResponseMessage response, Stream content)
    {
        _response = response;
        Content = content;
    }

    /// <summary>The bytes, streamed.</summary>
    public Stream Content { get; }

    /// <summary>The MIME type the server detected, e.g. <c>text/plain</c>.</summary>
    public string? ContentType => _response.Content.Headers.ContentType?.MediaType;

    /// <summary><c>Content-Length</c>, when sent.</summary>
    public long? ContentLength => _response.Content.Headers.ContentLength;

    /// <inheritdoc />
    public void Dispose()
    {
        Content.Dispose();
        _response.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync().ConfigureAwait(false);
        _response.Dispose();
    }
}
