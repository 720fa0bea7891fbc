using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quiver.Client;

/// <summary>The Vector Stores API (<c>sdk.llm.vectorStores.*</c>): stores, their files, batches, search, and polling helpers.</summary>
public sealed class VectorStoresClient
{
    private readonly QuiverTransport _transport;
    private readonly FilesClient _files;

    internal VectorStoresClient(QuiverTransport transport, FilesClient files)
    {
        _transport = transport;
        _files = files;
    }

    private static ClientJsonContext Json => ClientJsonContext.Default;

    private static string Store(string vectorStoreId) => "vector_stores/" + QuiverTransport.Escape(vectorStoreId);

    private static string StoreFile(string vectorStoreId, string fileId) => Store(vectorStoreId) + "/files/" + QuiverTransport.Escape(fileId);

    private static string Batch(string vectorStoreId, string batchId) => Store(vectorStoreId) + "/file_batches/" + QuiverTransport.Escape(batchId);

    // ---- Stores ----

    /// <summary>Creates a vector store (every field optional).</summary>
    public async Task<VectorStore> CreateAsync(CreateVectorStoreRequest? request = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Post, "vector_stores", QuiverTransport.Json(request ?? new CreateVectorStoreRequest(), Json.CreateVectorStoreRequest),
            Json.VectorStore, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>One page of vector stores.</summary>
    public async Task<ListPage<VectorStore>> ListPageAsync(ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Get, ListPath("vector_stores", list?.Limit, list?.Order, list?.After, list?.Before, null),
            null, Json.ListPageVectorStore, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Every vector store, paging through <c>after</c>.</summary>
    public IAsyncEnumerable<VectorStore> ListAsync(ListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Paginate(list?.After, after => ListPageAsync(new ListOptions { Limit = list?.Limit, Order = list?.Order, Before = list?.Before, After = after }, options, cancellationToken),
            s => s.Id, cancellationToken);

    /// <summary>A vector store.</summary>
    public async Task<VectorStore> GetAsync(string vectorStoreId, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Get, Store(vectorStoreId), null, Json.VectorStore, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Modifies name, description, expiration or metadata (null fields are kept).</summary>
    public async Task<VectorStore> UpdateAsync(string vectorStoreId, UpdateVectorStoreRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = JsonSerializer.SerializeToNode(request, Json.UpdateVectorStoreRequest)!.AsObject();
        if (request.RemoveExpiresAfter && request.ExpiresAfter is null)
        {
            body["expires_after"] = null;
        }

        return (await _transport.SendAsync(HttpMethod.Post, Store(vectorStoreId), QuiverTransport.RawJson(body.ToJsonString()),
            Json.VectorStore, options, cancellationToken).ConfigureAwait(false)).Value;
    }

    /// <summary>Deletes a vector store (its Files stay).</summary>
    public async Task<DeletionStatus> DeleteAsync(string vectorStoreId, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Delete, Store(vectorStoreId), null, Json.DeletionStatus, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Searches a store: query (or queries), filters, ranking options, rewrite.</summary>
    public async Task<VectorStoreSearchResults> SearchAsync(
        string vectorStoreId, SearchVectorStoreRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await _transport.SendAsync(HttpMethod.Post, Store(vectorStoreId) + "/search", QuiverTransport.Json(request, Json.SearchVectorStoreRequest),
            Json.VectorStoreSearchResults, options, cancellationToken).ConfigureAwait(false)).Value;
    }

    // ---- Store files ----

    /// <summary>Attaches a File; answers at once with <c>in_progress</c> (see <see cref="CreateFileAndPollAsync"/>).</summary>
    public async Task<VectorStoreFile> CreateFileAsync(
        string vectorStoreId, CreateVectorStoreFileRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await _transport.SendAsync(HttpMethod.Post, Store(vectorStoreId) + "/files", QuiverTransport.Json(request, Json.CreateVectorStoreFileRequest),
            Json.VectorStoreFile, options, cancellationToken).ConfigureAwait(false)).Value;
    }

    /// <summary>One page of a store's files, optionally only those in one status.</summary>
    public async Task<ListPage<VectorStoreFile>> ListFilesPageAsync(
        string vectorStoreId, VectorStoreFileListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Get, ListPath(Store(vectorStoreId) + "/files", list?.Limit, list?.Order, list?.After, list?.Before, list?.Filter),
            null, Json.ListPageVectorStoreFile, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Every file of a store (optionally filtered by status), paging through <c>after</c>.</summary>
    public IAsyncEnumerable<VectorStoreFile> ListFilesAsync(
        string vectorStoreId, VectorStoreFileListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Paginate(list?.After, after => ListFilesPageAsync(vectorStoreId, Next(list, after), options, cancellationToken), f => f.Id, cancellationToken);

    /// <summary>A file of a store.</summary>
    public async Task<VectorStoreFile> GetFileAsync(string vectorStoreId, string fileId, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await GetFileWithHintAsync(vectorStoreId, fileId, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Replaces a file's attributes (null clears them); filters see the change at once.</summary>
    public async Task<VectorStoreFile> UpdateFileAsync(
        string vectorStoreId, string fileId, IDictionary<string, AttributeValue>? attributes, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["attributes"] = attributes is null ? null : JsonSerializer.SerializeToNode(attributes, Json.IDictionaryStringAttributeValue),
        };
        return (await _transport.SendAsync(HttpMethod.Post, StoreFile(vectorStoreId, fileId), QuiverTransport.RawJson(body.ToJsonString()),
            Json.VectorStoreFile, options, cancellationToken).ConfigureAwait(false)).Value;
    }

    /// <summary>Detaches a file from a store (the File itself stays).</summary>
    public async Task<DeletionStatus> DeleteFileAsync(string vectorStoreId, string fileId, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Delete, StoreFile(vectorStoreId, fileId), null, Json.DeletionStatus, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>The parsed text of a store file: <c>{file_id, filename, attributes, content[]}</c>.</summary>
    public async Task<VectorStoreFileContent> GetFileContentAsync(
        string vectorStoreId, string fileId, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Get, StoreFile(vectorStoreId, fileId) + "/content", null, Json.VectorStoreFileContent, options, cancellationToken).ConfigureAwait(false)).Value;

    // ---- Batches ----

    /// <summary>Attaches several Files at once: <c>file_ids</c> with shared settings, or <c>files</c> with per-file ones.</summary>
    public async Task<VectorStoreFileBatch> CreateFileBatchAsync(
        string vectorStoreId, CreateFileBatchRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await _transport.SendAsync(HttpMethod.Post, Store(vectorStoreId) + "/file_batches", QuiverTransport.Json(request, Json.CreateFileBatchRequest),
            Json.VectorStoreFileBatch, options, cancellationToken).ConfigureAwait(false)).Value;
    }

    /// <summary>A batch.</summary>
    public async Task<VectorStoreFileBatch> GetFileBatchAsync(string vectorStoreId, string batchId, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await GetFileBatchWithHintAsync(vectorStoreId, batchId, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Cancels a batch: settles at once with <c>status: "cancelled"</c>; completed members stay.</summary>
    public async Task<VectorStoreFileBatch> CancelFileBatchAsync(string vectorStoreId, string batchId, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Post, Batch(vectorStoreId, batchId) + "/cancel", null, Json.VectorStoreFileBatch, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>One page of a batch's files, optionally only those in one status.</summary>
    public async Task<ListPage<VectorStoreFile>> ListFilesInBatchPageAsync(
        string vectorStoreId, string batchId, VectorStoreFileListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Get, ListPath(Batch(vectorStoreId, batchId) + "/files", list?.Limit, list?.Order, list?.After, list?.Before, list?.Filter),
            null, Json.ListPageVectorStoreFile, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Every file of a batch (optionally filtered by status), paging through <c>after</c>.</summary>
    public IAsyncEnumerable<VectorStoreFile> ListFilesInBatchAsync(
        string vectorStoreId, string batchId, VectorStoreFileListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Paginate(list?.After, after => ListFilesInBatchPageAsync(vectorStoreId, batchId, Next(list, after), options, cancellationToken), f => f.Id, cancellationToken);

    // ---- Polling helpers ----

    /// <summary>Polls a store file until <c>completed</c>, <c>failed</c> or <c>cancelled</c>, honouring <c>openai-poll-after-ms</c>.</summary>
    /// <exception cref="TimeoutException">The <see cref="PollOptions.Timeout"/> passed first.</exception>
    public Task<VectorStoreFile> PollFileAsync(
        string vectorStoreId, string fileId, PollOptions? poll = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        _transport.PollAsync(ct => GetFileWithHintAsync(vectorStoreId, fileId, options, ct), f => f.Status, $"File {fileId} in {vectorStoreId}", poll, cancellationToken);

    /// <summary>Polls a batch until <c>completed</c>, <c>failed</c> or <c>cancelled</c>, honouring <c>openai-poll-after-ms</c>.</summary>
    /// <exception cref="TimeoutException">The <see cref="PollOptions.Timeout"/> passed first.</exception>
    public Task<VectorStoreFileBatch> PollFileBatchAsync(
        string vectorStoreId, string batchId, PollOptions? poll = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        _transport.PollAsync(ct => GetFileBatchWithHintAsync(vectorStoreId, batchId, options, ct), b => b.Status, $"Batch {batchId} in {vectorStoreId}", poll, cancellationToken);

    /// <summary>Attaches a File and polls it to a terminal status.</summary>
    public async Task<VectorStoreFile> CreateFileAndPollAsync(
        string vectorStoreId, CreateVectorStoreFileRequest request, PollOptions? poll = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var created = await CreateFileAsync(vectorStoreId, request, options, cancellationToken).ConfigureAwait(false);
        return VectorStoreFileStatus.IsTerminal(created.Status)
            ? created
            : await PollFileAsync(vectorStoreId, created.Id, poll, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a batch and polls it to a terminal status.</summary>
    public async Task<VectorStoreFileBatch> CreateFileBatchAndPollAsync(
        string vectorStoreId, CreateFileBatchRequest request, PollOptions? poll = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var created = await CreateFileBatchAsync(vectorStoreId, request, options, cancellationToken).ConfigureAwait(false);
        return VectorStoreFileStatus.IsTerminal(created.Status)
            ? created
            : await PollFileBatchAsync(vectorStoreId, created.Id, poll, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uploads one file, attaches it (with the item's attributes and chunking) and polls it to a terminal status.</summary>
    public async Task<VectorStoreFile> UploadAndPollAsync(
        string vectorStoreId, UploadItem file, string purpose = FilePurpose.Assistants, PollOptions? poll = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        var uploaded = await _files.UploadAsync(file.Content, file.Filename, purpose, WithoutIdempotencyKey(options), cancellationToken).ConfigureAwait(false);
        var request = new CreateVectorStoreFileRequest(uploaded.Id) { Attributes = file.Attributes, ChunkingStrategy = file.ChunkingStrategy };
        return await CreateFileAndPollAsync(vectorStoreId, request, poll, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Uploads several files one after another, attaches them as one batch (per-file attributes and
    /// chunking go in <c>files[]</c>) and polls the batch to a terminal status. Files uploaded before
    /// a failure remain; delete them if needed.
    /// </summary>
    public async Task<VectorStoreFileBatch> UploadAndPollAsync(
        string vectorStoreId, IEnumerable<UploadItem> files, string purpose = FilePurpose.Assistants, PollOptions? poll = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var entries = new List<FileBatchEntry>();
        var uploadOptions = WithoutIdempotencyKey(options);
        foreach (var item in files)
        {
            var uploaded = await _files.UploadAsync(item.Content, item.Filename, purpose, uploadOptions, cancellationToken).ConfigureAwait(false);
            entries.Add(new FileBatchEntry(uploaded.Id) { Attributes = item.Attributes, ChunkingStrategy = item.ChunkingStrategy });
        }

        if (entries.Count == 0)
        {
            throw new ArgumentException("At least one file is required.", nameof(files));
        }

        var request = entries.TrueForAll(e => e.Attributes is null && e.ChunkingStrategy is null)
            ? new CreateFileBatchRequest { FileIds = [.. entries.Select(e => e.FileId)] }
            : new CreateFileBatchRequest { Files = entries };
        return await CreateFileBatchAndPollAsync(vectorStoreId, request, poll, options, cancellationToken).ConfigureAwait(false);
    }

    // ---- Internals ----

    private Task<ApiResult<VectorStoreFile>> GetFileWithHintAsync(string vectorStoreId, string fileId, RequestOptions? options, CancellationToken cancellationToken) =>
        _transport.SendAsync(HttpMethod.Get, StoreFile(vectorStoreId, fileId), null, Json.VectorStoreFile, options, cancellationToken);

    private Task<ApiResult<VectorStoreFileBatch>> GetFileBatchWithHintAsync(string vectorStoreId, string batchId, RequestOptions? options, CancellationToken cancellationToken) =>
        _transport.SendAsync(HttpMethod.Get, Batch(vectorStoreId, batchId), null, Json.VectorStoreFileBatch, options, cancellationToken);

    private static RequestOptions? WithoutIdempotencyKey(RequestOptions? options) =>
        options?.IdempotencyKey is null ? options : new RequestOptions { OnBehalfOf = options.OnBehalfOf, OmitOnBehalfOf = options.OmitOnBehalfOf };

    private static VectorStoreFileListOptions Next(VectorStoreFileListOptions? list, string? after) =>
        new() { Limit = list?.Limit, Order = list?.Order, Before = list?.Before, Filter = list?.Filter, After = after };

    private static string ListPath(string path, int? limit, ListOrder? order, string? after, string? before, string? filter) =>
        QuiverTransport.Query(path,
            ("limit", QuiverTransport.Int(limit)), ("order", QuiverTransport.Order(order)),
            ("after", after), ("before", before), ("filter", filter));

    private static async IAsyncEnumerable<T> Paginate<T>(
        string? after, Func<string?, Task<ListPage<T>>> fetch, Func<T, string> id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await fetch(after).ConfigureAwait(false);
            foreach (var item in page.Data)
            {
                yield return item;
            }

            if (!page.HasMore || page.Data.Count == 0)
            {
                yield break;
            }

            after = page.LastId ?? id(page.Data[^1]);
        }
    }
}
