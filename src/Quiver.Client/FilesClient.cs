using System.Net.Http.Headers;
using System.Runtime.CompilerServices;

namespace Quiver.Client;

/// <summary>The Files API (<c>sdk.llm.files.*</c>): upload, list, get, delete, content.</summary>
public sealed class FilesClient
{
    private readonly QuiverTransport _transport;

    internal FilesClient(QuiverTransport transport) => _transport = transport;

    private static ClientJsonContext Json => ClientJsonContext.Default;

    /// <summary>Uploads <paramref name="content"/> (streamed, not buffered) as <paramref name="filename"/>. The stream is not disposed.</summary>
    public async Task<QuiverFile> UploadAsync(
        Stream content, string filename, string purpose = FilePurpose.Assistants, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(filename);
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(purpose), "purpose");
        var file = new StreamContent(new NonDisposingStream(content));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", filename);
        return (await _transport.SendAsync(HttpMethod.Post, "files", form, Json.QuiverFile, options, cancellationToken).ConfigureAwait(false)).Value;
    }

    /// <summary>Uploads the file at <paramref name="path"/>; its name is <paramref name="filename"/> or the path's file name.</summary>
    public async Task<QuiverFile> UploadAsync(
        string path, string purpose = FilePurpose.Assistants, string? filename = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            return await UploadAsync(stream, filename ?? Path.GetFileName(path), purpose, options, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One page of Files.</summary>
    public async Task<ListPage<QuiverFile>> ListPageAsync(FileListOptions? list = null, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var path = QuiverTransport.Query("files",
            ("limit", QuiverTransport.Int(list?.Limit)), ("order", QuiverTransport.Order(list?.Order)),
            ("after", list?.After), ("purpose", list?.Purpose));
        return (await _transport.SendAsync(HttpMethod.Get, path, null, Json.ListPageQuiverFile, options, cancellationToken).ConfigureAwait(false)).Value;
    }

    /// <summary>Every File, fetching further pages through <c>after</c> as the enumeration goes.</summary>
    public async IAsyncEnumerable<QuiverFile> ListAsync(
        FileListOptions? list = null, RequestOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = list?.After;
        while (true)
        {
            var page = await ListPageAsync(
                new FileListOptions { Limit = list?.Limit, Order = list?.Order, Purpose = list?.Purpose, After = after }, options, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Data)
            {
                yield return item;
            }

            if (!page.HasMore || page.Data.Count == 0)
            {
                yield break;
            }

            after = page.LastId ?? page.Data[^1].Id;
        }
    }

    /// <summary>A File's metadata.</summary>
    public async Task<QuiverFile> GetAsync(string fileId, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Get, "files/" + QuiverTransport.Escape(fileId), null, Json.QuiverFile, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>Deletes a File (it is detached from every vector store).</summary>
    public async Task<DeletionStatus> DeleteAsync(string fileId, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await _transport.SendAsync(HttpMethod.Delete, "files/" + QuiverTransport.Escape(fileId), null, Json.DeletionStatus, options, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>The original bytes, streamed, with the detected MIME type. Dispose the result.</summary>
    public async Task<FileContentResponse> ContentAsync(string fileId, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var response = await _transport.SendRawAsync(
            HttpMethod.Get, "files/" + QuiverTransport.Escape(fileId) + "/content", null, options, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new FileContentResponse(response, stream);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Keeps HttpClient from disposing the caller's stream with the request content.</summary>
    private sealed class NonDisposingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
