using Quiver.Core.Embeddings;
using Quiver.Core.Errors;
using Quiver.Core.Ids;
using Quiver.Core.Ingestion;
using Quiver.Core.Paging;
using Quiver.Core.Tenancy;

namespace Quiver.Core.VectorStores;

/// <summary>A file named in an attach request, before chunking is resolved against the store's model.</summary>
public sealed record AttachRequest(string FileId, AttributeMap Attributes, ChunkingSpec.Request Chunking);

/// <summary>
/// The vector store use cases: resolves models and chunking, calls the repository (which does
/// each change in one transaction), then wakes or stops in-process workers. Signals always
/// follow the commit, never precede it.
/// </summary>
internal sealed class VectorStoreService(
    IVectorStoreRepository stores,
    IEmbeddingModelRegistry models,
    IIdGenerator ids,
    IngestionSignals signals,
    StoreActivity activity,
    TimeProvider time)
{
    public const int MaxNameLength = 256;
    public const int MaxDescriptionLength = 512;
    public const int MinExpiryDays = 1;
    public const int MaxExpiryDays = 365;

    private long Now => time.GetUtcNow().ToUnixTimeSeconds();

    public async Task<VectorStoreRecord> CreateStoreAsync(
        Principal principal, string? name, string? description, AttributeMap metadata, int? expiresAfterDays,
        string? embeddingModel, IReadOnlyList<AttachRequest> files, CancellationToken ct)
    {
        var model = ResolveModel(embeddingModel);
        var now = Now;
        var store = new VectorStoreRecord(ids.NewId(IdPrefixes.VectorStore), principal.Project, principal.User, name, description, metadata,
            model.Info.Id, model.Info.Dimensions, expiresAfterDays, expiresAfterDays is { } d ? now + d * 86_400L : null,
            false, now, now, default, 0);
        var created = await stores.CreateStoreAsync(store, [.. files.Select(f => Resolve(f, model))], ct);
        if (files.Count > 0)
        {
            signals.Wake();
        }

        return created;
    }

    // Reads show activity not yet written (see StoreActivity).
    public async Task<VectorStoreRecord> GetStoreAsync(Principal principal, string storeId, CancellationToken ct) =>
        activity.Apply(await stores.GetStoreAsync(principal, storeId, ct) ?? throw VectorStoreErrors.StoreNotFound(storeId));

    public async Task<Page<VectorStoreRecord>> ListStoresAsync(Principal principal, ListRequest request, CancellationToken ct)
    {
        var page = await stores.ListStoresAsync(principal, request, ct);
        return page with { Items = [.. page.Items.Select(activity.Apply)] };
    }

    public async Task<VectorStoreRecord> UpdateStoreAsync(Principal principal, string storeId, VectorStoreUpdate update, CancellationToken ct) =>
        activity.Apply(await stores.UpdateStoreAsync(principal, storeId, update, Now, ct) ?? throw VectorStoreErrors.StoreNotFound(storeId));

    public async Task DeleteStoreAsync(Principal principal, string storeId, CancellationToken ct)
    {
        var running = await stores.DeleteStoreAsync(principal, storeId, ct) ?? throw VectorStoreErrors.StoreNotFound(storeId);
        foreach (var fileId in running)
        {
            signals.CancelRunning(storeId, fileId);
        }
    }

    public async Task<VectorStoreFileRecord> AttachFileAsync(Principal principal, string storeId, AttachRequest file, CancellationToken ct)
    {
        var result = await AttachAsync(principal, storeId, [file], null, ct);
        return result.Files[0];
    }

    public async Task<FileBatchRecord> CreateBatchAsync(Principal principal, string storeId, IReadOnlyList<AttachRequest> files, string? idempotencyKey, CancellationToken ct)
    {
        var result = await AttachAsync(principal, storeId, files, new NewBatch(ids.NewId(IdPrefixes.FileBatch), idempotencyKey), ct);
        return result.Batch!;
    }

    private async Task<AttachResult> AttachAsync(Principal principal, string storeId, IReadOnlyList<AttachRequest> files, NewBatch? batch, CancellationToken ct)
    {
        var store = await GetStoreAsync(principal, storeId, ct);
        if (store.IsExpired(Now))
        {
            throw VectorStoreErrors.StoreExpired(storeId);
        }

        var model = ResolveModel(store.EmbeddingModel);
        var result = await stores.AttachAsync(principal, storeId, [.. files.Select(f => Resolve(f, model))], batch, Now, ct);
        foreach (var fileId in result.Superseded)
        {
            signals.CancelRunning(storeId, fileId);
        }

        signals.Wake();
        return result;
    }

    public async Task<VectorStoreFileRecord> GetFileAsync(Principal principal, string storeId, string fileId, CancellationToken ct) =>
        await stores.GetFileAsync(principal, storeId, fileId, ct) ?? throw VectorStoreErrors.StoreFileNotFound(storeId, fileId);

    public Task<Page<VectorStoreFileRecord>> ListFilesAsync(Principal principal, string storeId, string? status, ListRequest request, CancellationToken ct) =>
        stores.ListFilesAsync(principal, storeId, status, request, ct);

    public async Task<VectorStoreFileRecord> UpdateFileAttributesAsync(Principal principal, string storeId, string fileId, AttributeMap attributes, CancellationToken ct) =>
        await stores.UpdateFileAttributesAsync(principal, storeId, fileId, attributes, ct) ?? throw VectorStoreErrors.StoreFileNotFound(storeId, fileId);

    public async Task DetachFileAsync(Principal principal, string storeId, string fileId, CancellationToken ct)
    {
        if (!await stores.DetachFileAsync(principal, storeId, fileId, ct))
        {
            throw VectorStoreErrors.StoreFileNotFound(storeId, fileId);
        }

        signals.CancelRunning(storeId, fileId);
    }

    public async Task<ParsedContent> GetParsedContentAsync(Principal principal, string storeId, string fileId, CancellationToken ct) =>
        await stores.GetParsedContentAsync(principal, storeId, fileId, ct) ?? throw VectorStoreErrors.StoreFileNotFound(storeId, fileId);

    public async Task<FileBatchRecord> GetBatchAsync(Principal principal, string storeId, string batchId, CancellationToken ct) =>
        await stores.GetBatchAsync(principal, storeId, batchId, ct) ?? throw VectorStoreErrors.BatchNotFound(batchId);

    /// <summary>D6: settles in one transaction, then stops the cancelled files' in-flight work here.</summary>
    public async Task<FileBatchRecord> CancelBatchAsync(Principal principal, string storeId, string batchId, CancellationToken ct)
    {
        var result = await stores.CancelBatchAsync(principal, storeId, batchId, ct) ?? throw VectorStoreErrors.BatchNotFound(batchId);
        foreach (var fileId in result.CancelledFileIds)
        {
            signals.CancelRunning(storeId, fileId);
        }

        return result.Batch;
    }

    public Task<Page<BatchMemberRecord>> ListBatchFilesAsync(Principal principal, string storeId, string batchId, string? status, ListRequest request, CancellationToken ct) =>
        stores.ListBatchFilesAsync(principal, storeId, batchId, status, request, ct);

    /// <summary>D9: <c>auto</c> or a configured <c>provider:model</c> id; anything else is an invalid request.</summary>
    private EmbeddingModel ResolveModel(string? requested)
    {
        var id = string.IsNullOrEmpty(requested) ? "auto" : requested;
        return models.TryResolve(id, out var model)
            ? model
            : throw ApiErrors.BadRequest(
                $"Unknown embedding_model '{ApiErrors.Truncate(id)}'. Use 'auto' or one of: {string.Join(", ", models.Models.Select(m => m.Id))}.",
                "embedding_model", "invalid_value");
    }

    private static Attachment Resolve(AttachRequest file, EmbeddingModel model) =>
        new(file.FileId, file.Attributes, file.Chunking.Resolve(model.Info.AutoChunkTokens, model.Info.AutoOverlapTokens));
}
