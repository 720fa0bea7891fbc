using Quiver.Core.Access;
using Quiver.Core.Errors;
using Quiver.Core.Extraction;
using Quiver.Core.Ids;
using Quiver.Core.Tenancy;

namespace Quiver.Core.Files;

/// <summary>The Files use cases on top of the metadata repository and the blob store.</summary>
internal sealed class FileService(
    IFileRepository files, IBlobStore blobs, IIdGenerator ids, TimeProvider time, Ingestion.IngestionSignals signals,
    AccessChecker access, IGrantStore grants)
{
    /// <summary>Shortest <c>expires_after.seconds</c> on upload (one hour, as OpenAI).</summary>
    public const int MinExpirySeconds = 3600;

    /// <summary>Longest <c>expires_after.seconds</c> on upload (30 days, as OpenAI).</summary>
    public const int MaxExpirySeconds = 2_592_000;

    /// <summary>
    /// Turns a staged upload into a File: validates the request's fields, detects the type from the
    /// first bytes and the name, moves the bytes under the new id and records the row. On any
    /// failure the staged bytes are discarded, so a rejected upload changes nothing.
    /// </summary>
    public async Task<FileRecord> CreateAsync(Principal principal, string? filename, string? purpose, StagedBlob staged, CancellationToken ct, int? expiresAfterSeconds = null)
    {
        string? committedId = null;
        try
        {
            if (string.IsNullOrEmpty(purpose))
            {
                throw ApiErrors.BadRequest("Missing required parameter: 'purpose'.", "purpose", "missing_required_parameter");
            }

            if (!FilePurposes.Upload.Contains(purpose))
            {
                throw ApiErrors.BadRequest(
                    $"Invalid 'purpose': '{ApiErrors.Truncate(purpose)}'. Expected one of: {string.Join(", ", FilePurposes.Upload.Order(StringComparer.Ordinal))}.",
                    "purpose", "invalid_value");
            }

            var name = FileNames.Validate(filename);
            if (staged.Length == 0)
            {
                throw ApiErrors.BadRequest("The uploaded file is empty. Upload a file with content.", "file", "empty_file");
            }

            var type = FileTypeDetector.Detect(name, staged.Head);
            var now = time.GetUtcNow().ToUnixTimeSeconds();
            var file = new FileRecord(ids.NewId(IdPrefixes.File), principal.Project, principal.User, name, purpose,
                staged.Length, type.MimeType, now, now + expiresAfterSeconds);
            await blobs.CommitAsync(staged, file.Id, ct);
            committedId = file.Id;
            await files.InsertAsync(file, ct);
            return file;
        }
        catch
        {
            if (committedId is not null)
            {
                await blobs.DeleteAsync(committedId, CancellationToken.None);
            }
            else
            {
                await blobs.DiscardAsync(staged);
            }

            throw;
        }
    }

    /// <summary>The file when the principal holds a reader role on it (metadata and content), else not found / permission denied.</summary>
    public async Task<FileRecord> GetAsync(Principal principal, string fileId, CancellationToken ct)
    {
        var owner = await access.RequireBeforeLoadAsync(principal, ResourceTypes.File, fileId, ResourceRole.Reader, () => ApiErrors.FileNotFound(fileId), ct);
        return await files.GetAsync(owner, fileId, ct) ?? throw ApiErrors.FileNotFound(fileId);
    }

    /// <summary>Deletes the file (owner role), detaches it everywhere and stops its in-flight work (D8), or a not-found error.</summary>
    public async Task DeleteAsync(Principal principal, string fileId, CancellationToken ct)
    {
        var owner = await access.RequireBeforeLoadAsync(principal, ResourceTypes.File, fileId, ResourceRole.Owner, () => ApiErrors.FileNotFound(fileId), ct);
        var stores = await files.DeleteAsync(owner, fileId, ct) ?? throw ApiErrors.FileNotFound(fileId);
        await grants.DeleteAllAsync(principal.Project, ResourceTypes.File, fileId, ct);
        foreach (var store in stores)
        {
            signals.CancelRunning(store, fileId);
        }

        await blobs.DeleteAsync(fileId, ct);
    }

    /// <summary>Deletes up to <paramref name="limit"/> expired files as a delete would (detached everywhere, chunks and bytes removed).</summary>
    public async Task<int> DeleteExpiredAsync(int limit, CancellationToken ct)
    {
        var expired = await files.ListExpiredAsync(time.GetUtcNow().ToUnixTimeSeconds(), limit, ct);
        var deleted = 0;
        foreach (var (principal, fileId) in expired)
        {
            var stores = await files.DeleteAsync(principal, fileId, ct);
            if (stores is null)
            {
                continue; // deleted by its owner meanwhile
            }

            foreach (var store in stores)
            {
                signals.CancelRunning(store, fileId);
            }

            await blobs.DeleteAsync(fileId, ct);
            deleted++;
        }

        return deleted;
    }
}
