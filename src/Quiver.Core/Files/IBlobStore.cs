namespace Quiver.Core.Files;

/// <summary>
/// Where file bytes live. Uploads are staged first (streamed, size-limited, made durable) and
/// committed under the file id only once the whole request has been validated, so a rejected
/// upload leaves nothing behind.
/// </summary>
public interface IBlobStore
{
    /// <summary>
    /// Streams <paramref name="content"/> to durable staging storage. Throws a too-large error
    /// <see cref="Errors.ApiException"/> (after removing what was written) when it exceeds
    /// <paramref name="maxBytes"/>.
    /// </summary>
    Task<StagedBlob> StageAsync(Stream content, long maxBytes, CancellationToken ct);

    /// <summary>Makes a staged blob the content of <paramref name="key"/>.</summary>
    Task CommitAsync(StagedBlob staged, string key, CancellationToken ct);

    /// <summary>Removes a staged blob that will not be committed. Never throws.</summary>
    Task DiscardAsync(StagedBlob staged);

    /// <summary>Opens the content of <paramref name="key"/> for reading.</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken ct);

    /// <summary>A local file path with the content of <paramref name="key"/> for parsers that need one, and a callback that releases it.</summary>
    Task<LocalBlob> GetLocalPathAsync(string key, CancellationToken ct);

    /// <summary>Deletes the content of <paramref name="key"/>; a missing key is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken ct);
}

/// <summary>A staged upload: its size and first bytes (for type detection).</summary>
/// <param name="Handle">Store-specific handle (a temp path for the file system store).</param>
public sealed record StagedBlob(string Handle, long Length, byte[] Head);

/// <summary>A local path holding a blob's bytes; dispose to release temporary copies.</summary>
public sealed class LocalBlob(string path, Func<ValueTask>? release = null) : IAsyncDisposable
{
    public string Path { get; } = path;

    public ValueTask DisposeAsync() => release?.Invoke() ?? ValueTask.CompletedTask;
}
