using Quiver.Core.Access;
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
    AccessChecker access,
    IGrantStore grants,
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
        var owners = await RequireFilesAsync(principal, files, ct);
        var now = Now;
        var store = new VectorStoreRecord(ids.NewId(IdPrefixes.VectorStore), principal.Project, principal.User, name, description, metadata,
            model.Info.Id, model.Info.Dimensions, expiresAfterDays, expiresAfterDays is { } d ? now + d * 86_400L : null,
            false, now, now, default, 0);
        var created = await stores.CreateStoreAsync(store, [.. files.Select(f => Resolve(f, model, owners))], ct);
        if (files.Count > 0)
        {
            signals.Wake();
        }

        return created;
    }

    // Reads show activity not yet written (see StoreActivity).
    public async Task<VectorStoreRecord> GetStoreAsync(Principal principal, string storeId, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Reader, ct, loadsStoreNext: true);
        return activity.Apply(await stores.GetStoreAsync(owner, storeId, ct) ?? throw VectorStoreErrors.StoreNotFound(storeId));
    }

    public async Task<Page<VectorStoreRecord>> ListStoresAsync(Principal principal, ListRequest request, CancellationToken ct)
    {
        var page = await stores.ListStoresAsync(principal, request, ct);
        return page with { Items = [.. page.Items.Select(activity.Apply)] };
    }

    public async Task<VectorStoreRecord> UpdateStoreAsync(Principal principal, string storeId, VectorStoreUpdate update, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Writer, ct, loadsStoreNext: true);
        return activity.Apply(await stores.UpdateStoreAsync(owner, storeId, update, Now, ct) ?? throw VectorStoreErrors.StoreNotFound(storeId));
    }

    public async Task DeleteStoreAsync(Principal principal, string storeId, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Owner, ct, loadsStoreNext: true);
        var running = await stores.DeleteStoreAsync(owner, storeId, ct) ?? throw VectorStoreErrors.StoreNotFound(storeId);
        await grants.DeleteAllAsync(principal.Project, ResourceTypes.VectorStore, storeId, ct);
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
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Writer, ct, loadsStoreNext: true);
        var store = activity.Apply(await stores.GetStoreAsync(owner, storeId, ct) ?? throw VectorStoreErrors.StoreNotFound(storeId));
        if (store.IsExpired(Now))
        {
            throw VectorStoreErrors.StoreExpired(storeId);
        }

        var fileOwners = await RequireFilesAsync(principal, files, ct);
        var model = ResolveModel(store.EmbeddingModel);
        var result = await stores.AttachAsync(owner, storeId, [.. files.Select(f => Resolve(f, model, fileOwners))], batch, Now, ct);
        foreach (var fileId in result.Superseded)
        {
            signals.CancelRunning(storeId, fileId);
        }

        signals.Wake();
        return result;
    }

    public async Task<VectorStoreFileRecord> GetFileAsync(Principal principal, string storeId, string fileId, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Reader, ct);
        return await stores.GetFileAsync(owner, storeId, fileId, ct) ?? throw VectorStoreErrors.StoreFileNotFound(storeId, fileId);
    }

    public async Task<Page<VectorStoreFileRecord>> ListFilesAsync(Principal principal, string storeId, string? status, ListRequest request, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Reader, ct);
        return await stores.ListFilesAsync(owner, storeId, status, request, ct);
    }

    public async Task<VectorStoreFileRecord> UpdateFileAttributesAsync(Principal principal, string storeId, string fileId, AttributeMap attributes, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Writer, ct);
        return await stores.UpdateFileAttributesAsync(owner, storeId, fileId, attributes, ct) ?? throw VectorStoreErrors.StoreFileNotFound(storeId, fileId);
    }

    public async Task DetachFileAsync(Principal principal, string storeId, string fileId, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Writer, ct);
        if (!await stores.DetachFileAsync(owner, storeId, fileId, ct))
        {
            throw VectorStoreErrors.StoreFileNotFound(storeId, fileId);
        }

        signals.CancelRunning(storeId, fileId);
    }

    public async Task<ParsedContent> GetParsedContentAsync(Principal principal, string storeId, string fileId, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Reader, ct);
        return await stores.GetParsedContentAsync(owner, storeId, fileId, ct) ?? throw VectorStoreErrors.StoreFileNotFound(storeId, fileId);
    }

    public async Task<FileBatchRecord> GetBatchAsync(Principal principal, string storeId, string batchId, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Reader, ct);
        return await stores.GetBatchAsync(owner, storeId, batchId, ct) ?? throw VectorStoreErrors.BatchNotFound(batchId);
    }

    /// <summary>D6: settles in one transaction, then stops the cancelled files' in-flight work here.</summary>
    public async Task<FileBatchRecord> CancelBatchAsync(Principal principal, string storeId, string batchId, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Writer, ct);
        var result = await stores.CancelBatchAsync(owner, storeId, batchId, ct) ?? throw VectorStoreErrors.BatchNotFound(batchId);
        foreach (var fileId in result.CancelledFileIds)
        {
            signals.CancelRunning(storeId, fileId);
        }

        return result.Batch;
    }

    public async Task<Page<BatchMemberRecord>> ListBatchFilesAsync(Principal principal, string storeId, string batchId, string? status, ListRequest request, CancellationToken ct)
    {
        var owner = await RequireStoreAsync(principal, storeId, ResourceRole.Reader, ct);
        return await stores.ListBatchFilesAsync(owner, storeId, batchId, status, request, ct);
    }

    /// <summary>The store's owning principal when the caller holds <paramref name="role"/> on it (not found, or permission denied, otherwise).</summary>
    /// <param name="loadsStoreNext">
    /// The route loads the store itself next and answers StoreNotFound when it is gone, so the creator's check may be
    /// answered from memory (<see cref="AccessChecker.RequireBeforeLoadAsync"/>). Routes that go on to a file or batch
    /// of the store would answer a deleted store with that object's not-found (or an empty list), so they do not.
    /// </param>
    private Task<Principal> RequireStoreAsync(Principal principal, string storeId, ResourceRole role, CancellationToken ct, bool loadsStoreNext = false) =>
        loadsStoreNext
            ? access.RequireBeforeLoadAsync(principal, ResourceTypes.VectorStore, storeId, role, () => VectorStoreErrors.StoreNotFound(storeId), ct)
            : access.RequireAsync(principal, ResourceTypes.VectorStore, storeId, role, () => VectorStoreErrors.StoreNotFound(storeId), ct);

    /// <summary>
    /// Attaching needs the reader role on each file (a file the caller cannot see is not found);
    /// returns each file's owning user, which the repository checks the file against.
    /// </summary>
    private async Task<Dictionary<string, string>> RequireFilesAsync(Principal principal, IReadOnlyList<AttachRequest> files, CancellationToken ct)
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (!owners.ContainsKey(file.FileId))
            {
                // The attach re-checks each file against this owner and answers FileNotFound when it is gone.
                var owner = await access.RequireBeforeLoadAsync(principal, ResourceTypes.File, file.FileId, ResourceRole.Reader, () => ApiErrors.FileNotFound(file.FileId), ct);
                owners[file.FileId] = owner.User;
            }
        }

        return owners;
    }

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

    private static Attachment Resolve(AttachRequest file, EmbeddingModel model, Dictionary<string, string> fileOwners) =>
        new(file.FileId, file.Attributes, file.Chunking.Resolve(model.Info.AutoChunkTokens, model.Info.AutoOverlapTokens), fileOwners[file.FileId]);
}
