using Quiver.Core.Errors;
using Quiver.Core.Extraction;
using Quiver.Core.Ids;

namespace Quiver.Core.Files;

/// <summary>
/// File bytes under <c>{dataDir}/files</c>, staged in <c>{dataDir}/tmp</c>. Staging writes with
/// a small buffer (never the whole file in memory) and fsyncs before the upload is answered;
/// commit is an atomic rename within one file system.
/// </summary>
internal sealed class FileSystemBlobStore : IBlobStore
{
    private const int CopyBufferBytes = 128 * 1024;

    private readonly string _filesDir;
    private readonly string _tmpDir;

    public FileSystemBlobStore(string rootDir)
    {
        _filesDir = Path.Combine(rootDir, "files");
        _tmpDir = Path.Combine(rootDir, "tmp");
        Directory.CreateDirectory(_filesDir);
        Directory.CreateDirectory(_tmpDir);
    }

    /// <inheritdoc/>
    public async Task<StagedBlob> StageAsync(Stream content, long maxBytes, CancellationToken ct)
    {
        var path = Path.Combine(_tmpDir, "upload-" + RandomIdGenerator.NewSecret(20));
        var head = new byte[FileTypeDetector.HeadLength];
        var headLength = 0;
        long total = 0;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            await using (var target = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            }))
            {
                int read;
                while ((read = await content.ReadAsync(buffer.AsMemory(0, CopyBufferBytes), ct)) > 0)
                {
                    total += read;
                    if (total > maxBytes)
                    {
                        throw ApiErrors.PayloadTooLarge(
                            $"The file is larger than the maximum upload size of {maxBytes} bytes.", "file");
                    }

                    if (headLength < head.Length)
                    {
                        var take = Math.Min(read, head.Length - headLength);
                        buffer.AsSpan(0, take).CopyTo(head.AsSpan(headLength));
                        headLength += take;
                    }

                    await target.WriteAsync(buffer.AsMemory(0, read), ct);
                }

                target.Flush(flushToDisk: true);
            }

            return new StagedBlob(path, total, head[..headLength]);
        }
        catch
        {
            TryDelete(path);
            throw;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc/>
    public Task CommitAsync(StagedBlob staged, string key, CancellationToken ct)
    {
        File.Move(staged.Handle, PathFor(key), overwrite: true);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task DiscardAsync(StagedBlob staged)
    {
        TryDelete(staged.Handle);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string key, CancellationToken ct) =>
        Task.FromResult<Stream>(new FileStream(PathFor(key), new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read | FileShare.Delete,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
        }));

    /// <inheritdoc/>
    public Task<LocalBlob> GetLocalPathAsync(string key, CancellationToken ct)
    {
        var path = PathFor(key);
        return File.Exists(path)
            ? Task.FromResult(new LocalBlob(path))
            : throw new FileNotFoundException("Blob is missing.", key);
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string key, CancellationToken ct)
    {
        TryDelete(PathFor(key));
        return Task.CompletedTask;
    }

    /// <summary>Keys are our own ids (validated base62), so they are safe file names.</summary>
    private string PathFor(string key) =>
        IdValidator.IsWellFormed(key, IdPrefixes.File)
            ? Path.Combine(_filesDir, key)
            : throw new ArgumentException("Blob keys are file ids.", nameof(key));

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file is harmless and swept at start-up.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Removes staging files left by a crash mid-upload: all of them (one process owns the
    /// directory), or with <paramref name="olderThan"/> only those not written for that long (a
    /// directory shared by several processes, where a young file may be an upload in progress).
    /// </summary>
    public void SweepStaging(TimeSpan? olderThan = null)
    {
        var cutoff = DateTime.UtcNow - (olderThan ?? TimeSpan.Zero);
        foreach (var path in Directory.EnumerateFiles(_tmpDir, "upload-*"))
        {
            if (olderThan is null || File.GetLastWriteTimeUtc(path) < cutoff)
            {
                TryDelete(path);
            }
        }
    }
}
