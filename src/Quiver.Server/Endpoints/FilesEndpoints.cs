using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Quiver.Core;
using Quiver.Core.Errors;
using Quiver.Core.Files;
using Quiver.Core.Idempotency;
using Quiver.Core.Ids;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;
using Quiver.Server.Errors;

namespace Quiver.Server.Endpoints;

/// <summary>The Files API (MKA1 reference §4): upload, list, retrieve, delete, content.</summary>
internal static class FilesEndpoints
{
    /// <summary>Room for multipart boundaries and headers on top of the file itself.</summary>
    private const long MultipartOverheadBytes = 1024 * 1024;

    /// <summary>Longest accepted value of a non-file form field.</summary>
    private const int MaxFieldBytes = 1024;

    public static RouteGroupBuilder MapFiles(this RouteGroupBuilder api, string namePrefix)
    {
        var files = api.MapGroup("/files").WithTags("Files");
        files.MapPost("", UploadFileAsync).WithName(namePrefix + "uploadFile")
            .Accepts<IFormFile>("multipart/form-data").DisableAntiforgery();
        files.MapGet("", ListFilesAsync).WithName(namePrefix + "listFiles");
        files.MapGet("/{file_id}", RetrieveFileAsync).WithName(namePrefix + "retrieveFile");
        files.MapDelete("/{file_id}", DeleteFileAsync).WithName(namePrefix + "deleteFile");
        files.MapGet("/{file_id}/content", DownloadFileContentAsync).WithName(namePrefix + "downloadFileContent")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream");
        return files;
    }

    /// <summary>
    /// Streams the multipart <c>file</c> part to staging storage as it arrives (never buffered
    /// whole), reads <c>purpose</c> wherever it appears, then validates and commits.
    /// </summary>
    private static async Task<Ok<FileObject>> UploadFileAsync(
        RequestContext rc, HttpRequest request, FileService service, IBlobStore blobs, IOptions<QuiverOptions> options,
        IIdempotencyStore idempotency, TimeProvider time, CancellationToken ct)
    {
        var key = IdempotencyKeys.Read(request);
        var maxBytes = options.Value.MaxUploadBytes;
        if (request.ContentLength > maxBytes + MultipartOverheadBytes)
        {
            throw ApiErrors.PayloadTooLarge($"The upload is larger than the maximum of {maxBytes} bytes.", "file");
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = maxBytes + MultipartOverheadBytes;
        }

        var boundary = GetBoundary(request.ContentType);
        var reader = new MultipartReader(boundary, request.Body);
        StagedBlob? staged = null;
        string? filename = null;
        string? purpose = null;
        string? contentHash = null;
        string? expiresAnchor = null;
        string? expiresSeconds = null;
        try
        {
            MultipartSection? section;
            while ((section = await ReadSectionAsync(reader, ct)) is not null)
            {
                var disposition = section.GetContentDispositionHeader();
                if (disposition is null || !disposition.IsFormDisposition() && !disposition.IsFileDisposition())
                {
                    continue;
                }

                var name = disposition.Name.Value;
                if (string.Equals(name, "file", StringComparison.Ordinal))
                {
                    if (staged is not null)
                    {
                        throw ApiErrors.BadRequest("Send exactly one 'file' part.", "file", "invalid_value");
                    }

                    filename = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : disposition.FileName.Value;
                    var hashing = new HashingReadStream(section.Body);
                    await using (hashing)
                    {
                        staged = await StageAsync(blobs, hashing, maxBytes, ct);
                        contentHash = hashing.HashHex();
                    }
                }
                else if (string.Equals(name, "purpose", StringComparison.Ordinal))
                {
                    purpose = await ReadFieldAsync(section, "purpose", ct);
                }
                else if (string.Equals(name, "expires_after[anchor]", StringComparison.Ordinal))
                {
                    expiresAnchor = await ReadFieldAsync(section, "expires_after", ct);
                }
                else if (string.Equals(name, "expires_after[seconds]", StringComparison.Ordinal))
                {
                    expiresSeconds = await ReadFieldAsync(section, "expires_after", ct);
                }
            }

            if (staged is null)
            {
                throw ApiErrors.BadRequest("Missing required parameter: 'file'. Send the file as a multipart part named 'file'.", "file", "missing_required_parameter");
            }

            var expiresAfter = ParseExpiresAfter(expiresAnchor, expiresSeconds);
            const string scope = "files";
            var hash = IdempotencyKeys.Hash(scope, filename ?? "", purpose ?? "", expiresAfter?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", contentHash!);
            if (await IdempotencyKeys.FindAsync(idempotency, rc.Principal, scope, key, hash, ct) is { } replayed)
            {
                return TypedResults.Ok(FileObject.From(await service.GetAsync(rc.Principal, replayed, ct)));
            }

            // The service owns the staged blob from here on (it commits or discards it).
            var toCommit = staged;
            staged = null;
            var file = await service.CreateAsync(rc.Principal, filename, purpose, toCommit, ct, expiresAfter);
            await IdempotencyKeys.RecordAsync(idempotency, time, rc.Principal, scope, key, hash, file.Id, ct);
            return TypedResults.Ok(FileObject.From(file));
        }
        finally
        {
            if (staged is not null)
            {
                await blobs.DiscardAsync(staged);
            }
        }
    }

    private static async Task<Ok<ListResponse<FileObject>>> ListFilesAsync(
        RequestContext rc, [AsParameters] ListQuery query, [FromQuery] string? purpose, IFileRepository files, CancellationToken ct)
    {
        var request = query.Validate(Limits.MaxFilesListLimit, Limits.DefaultFilesListLimit);
        if (purpose is not null && !FilePurposes.Filter.Contains(purpose))
        {
            throw ApiErrors.BadRequest(
                $"Invalid 'purpose': '{ApiErrors.Truncate(purpose)}'. Expected one of: {string.Join(", ", FilePurposes.Filter.Order(StringComparer.Ordinal))}.",
                "purpose", "invalid_value");
        }

        var page = await files.ListAsync(rc.Principal, purpose, request, ct);
        var data = page.Items.Select(FileObject.From).ToList();
        return TypedResults.Ok(new ListResponse<FileObject>("list", data, data.FirstOrDefault()?.Id, data.LastOrDefault()?.Id, page.HasMore));
    }

    private static async Task<Ok<FileObject>> RetrieveFileAsync(RequestContext rc, string file_id, FileService service, CancellationToken ct)
    {
        var id = IdValidator.Require(file_id, IdPrefixes.File, "file_id");
        return TypedResults.Ok(FileObject.From(await service.GetAsync(rc.Principal, id, ct)));
    }

    private static async Task<Ok<FileDeleted>> DeleteFileAsync(RequestContext rc, string file_id, FileService service, CancellationToken ct)
    {
        var id = IdValidator.Require(file_id, IdPrefixes.File, "file_id");
        await service.DeleteAsync(rc.Principal, id, ct);
        return TypedResults.Ok(new FileDeleted(id, "file", true));
    }

    private static async Task<FileStreamHttpResult> DownloadFileContentAsync(
        RequestContext rc, string file_id, FileService service, IBlobStore blobs, HttpResponse response, CancellationToken ct)
    {
        var id = IdValidator.Require(file_id, IdPrefixes.File, "file_id");
        var file = await service.GetAsync(rc.Principal, id, ct);
        var content = await blobs.OpenReadAsync(file.Id, ct);

        // The name is validated on upload (no control characters); the header type quotes and
        // escapes it and adds an RFC 5987 filename* for non-ASCII names.
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(file.Filename);
        response.Headers.ContentDisposition = disposition.ToString();
        // Served bytes are user content: never let a browser sniff or run them in our origin.
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "sandbox";
        return TypedResults.Stream(content, file.ContentType);
    }

    /// <summary>
    /// The form fields <c>expires_after[anchor]</c> and <c>expires_after[seconds]</c> (as the OpenAI SDKs send them):
    /// both or neither; the anchor is <c>created_at</c> and the seconds an integer from one hour to 30 days.
    /// </summary>
    private static int? ParseExpiresAfter(string? anchor, string? seconds)
    {
        if (anchor is null && seconds is null)
        {
            return null;
        }

        if (anchor != "created_at")
        {
            throw ApiErrors.BadRequest("Invalid 'expires_after[anchor]': expected 'created_at'.", "expires_after", "invalid_value");
        }

        return int.TryParse(seconds, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            && n is >= FileService.MinExpirySeconds and <= FileService.MaxExpirySeconds
            ? n
            : throw ApiErrors.BadRequest(
                $"Invalid 'expires_after[seconds]': expected an integer from {FileService.MinExpirySeconds} to {FileService.MaxExpirySeconds}.",
                "expires_after", "invalid_value");
    }

    private static string GetBoundary(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw HttpErrors.UnsupportedMediaType("Upload files as multipart/form-data with the fields 'file' and 'purpose'.");
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200)
        {
            throw ApiErrors.BadRequest("The multipart/form-data body has a missing or invalid boundary.", "file", "invalid_multipart");
        }

        return boundary;
    }

    private static async Task<StagedBlob> StageAsync(IBlobStore blobs, Stream body, long maxBytes, CancellationToken ct)
    {
        // Only a failure to READ the body is the client's; a failure to write it (disk full: found by the crash
        // loop's disk-full scenario, which got 400 invalid_multipart for ENOSPC) is the server's and stays a 500.
        try
        {
            return await blobs.StageAsync(new ClientBodyStream(body), maxBytes, ct);
        }
        catch (ClientBodyException)
        {
            throw ApiErrors.BadRequest("The multipart/form-data body is malformed or truncated.", "file", "invalid_multipart");
        }
    }

    /// <summary>A read failure of the request body (truncated or malformed upload), told apart from storage failures.</summary>
    private sealed class ClientBodyException(IOException inner) : Exception(inner.Message, inner);

    /// <summary>The request body as the blob store reads it; its read failures become <see cref="ClientBodyException"/>
    /// (Kestrel's <see cref="BadHttpRequestException"/>, e.g. the body size limit, passes through for its own status).</summary>
    private sealed class ClientBodyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException e) when (e is not BadHttpRequestException)
            {
                throw new ClientBodyException(e);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return inner.Read(buffer, offset, count);
            }
            catch (IOException e) when (e is not BadHttpRequestException)
            {
                throw new ClientBodyException(e);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static async Task<MultipartSection?> ReadSectionAsync(MultipartReader reader, CancellationToken ct)
    {
        try
        {
            return await reader.ReadNextSectionAsync(ct);
        }
        catch (IOException)
        {
            throw ApiErrors.BadRequest("The multipart/form-data body is malformed or truncated.", "file", "invalid_multipart");
        }
        catch (InvalidDataException)
        {
            throw ApiErrors.BadRequest("The multipart/form-data body is malformed.", "file", "invalid_multipart");
        }
    }

    private static async Task<string> ReadFieldAsync(MultipartSection section, string name, CancellationToken ct)
    {
        var buffer = new byte[MaxFieldBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await section.Body.ReadAsync(buffer.AsMemory(total), ct)) > 0)
        {
            total += read;
        }

        if (total > MaxFieldBytes)
        {
            throw ApiErrors.BadRequest($"The '{name}' field is too long.", name, "invalid_value");
        }

        return Encoding.UTF8.GetString(buffer, 0, total).Trim();
    }
}
