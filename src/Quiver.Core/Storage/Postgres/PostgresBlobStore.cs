using System.Buffers;
using Npgsql;
using Quiver.Core.Errors;
using Quiver.Core.Extraction;
using Quiver.Core.Files;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// File bytes in PostgreSQL (<c>Quiver:Storage:Blobs = postgres</c>), so every process sees every
/// upload without a shared volume. A blob is a <c>blobs</c> row plus <c>blob_parts</c> of
/// <see cref="PartBytes"/> each. Staging streams the upload part by part (each part its own
/// short transaction, never the whole file in memory) into a row without a key; commit gives the
/// row its key in one transaction that also drops the key's previous blob. Reads stream a part
/// at a time. Staged rows a crash left behind are swept at start-up once they are a day old
/// (younger ones may be another process's upload in progress).
/// </summary>
internal sealed class PostgresBlobStore(PostgresDatabase database, TimeProvider time) : IBlobStore
{
    public const int PartBytes = 1024 * 1024;

    private static readonly TimeSpan StagingMaxAge = TimeSpan.FromDays(1);

    /// <inheritdoc/>
    public async Task<StagedBlob> StageAsync(Stream content, long maxBytes, CancellationToken ct)
    {
        long blobId;
        await using (var connection = await database.OpenAsync(ct))
        await using (var insert = connection.Command("INSERT INTO blobs (staged_at) VALUES (@now) RETURNING id")
                         .With("@now", time.GetUtcNow().ToUnixTimeSeconds()))
        {
            blobId = (long)(await insert.ExecuteScalarAsync(ct))!;
        }

        var head = new byte[FileTypeDetector.HeadLength];
        var headLength = 0;
        long total = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(PartBytes);
        try
        {
            await using var connection = await database.OpenAsync(ct);
            var seq = 0;
            while (true)
            {
                // Fill one part (a network stream returns short reads).
                var filled = 0;
                int read;
                while (filled < PartBytes && (read = await content.ReadAsync(buffer.AsMemory(filled, PartBytes - filled), ct)) > 0)
                {
                    filled += read;
                }

                if (filled == 0)
                {
                    break;
                }

                total += filled;
                if (total > maxBytes)
                {
                    throw ApiErrors.PayloadTooLarge(
                        $"The file is larger than the maximum upload size of {maxBytes} bytes.", "file");
                }

                if (headLength < head.Length)
                {
                    var take = Math.Min(filled, head.Length - headLength);
                    buffer.AsSpan(0, take).CopyTo(head.AsSpan(headLength));
                    headLength += take;
                }

                await using var part = connection.Command("INSERT INTO blob_parts (blob_id, seq, data) VALUES (@blob, @seq, @data)")
                    .With("@blob", blobId).With("@seq", seq++);
                part.Parameters.Add(new NpgsqlParameter("@data", NpgsqlTypes.NpgsqlDbType.Bytea) { Value = new ArraySegment<byte>(buffer, 0, filled) });
                await part.ExecuteNonQueryAsync(ct);
                if (filled < PartBytes)
                {
                    break;
                }
            }

            await using var length = connection.Command("UPDATE blobs SET length = @length WHERE id = @id").With("@length", total).With("@id", blobId);
            await length.ExecuteNonQueryAsync(ct);
            return new StagedBlob(blobId.ToString(System.Globalization.CultureInfo.InvariantCulture), total, head[..headLength]);
        }
        catch
        {
            await DeleteBlobAsync(blobId);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc/>
    public Task CommitAsync(StagedBlob staged, string key, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command("DELETE FROM blobs WHERE key = @key", transaction).With("@key", key).ExecuteNonQueryAsync(ct);
            var updated = await connection.Command("UPDATE blobs SET key = @key WHERE id = @id AND key IS NULL", transaction)
                .With("@key", key).With("@id", ParseHandle(staged)).ExecuteNonQueryAsync(ct);
            if (updated != 1)
            {
                throw new InvalidOperationException("The staged blob no longer exists.");
            }
        }, ct);

    /// <inheritdoc/>
    public Task DiscardAsync(StagedBlob staged) => DeleteBlobAsync(ParseHandle(staged));

    /// <inheritdoc/>
    public async Task<Stream> OpenReadAsync(string key, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.Command("SELECT id, length FROM blobs WHERE key = @key").With("@key", key);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new PartStream(database, reader.GetInt64(0), reader.GetInt64(1))
            : throw new FileNotFoundException("Blob is missing.", key);
    }

    /// <inheritdoc/>
    public async Task<LocalBlob> GetLocalPathAsync(string key, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), "quiver-blob-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var source = await OpenReadAsync(key, ct))
            await using (var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                await source.CopyToAsync(target, 128 * 1024, ct);
            }

            return new LocalBlob(path, () =>
            {
                TryDelete(path);
                return ValueTask.CompletedTask;
            });
        }
        catch
        {
            TryDelete(path);
            throw;
        }
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string key, CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.Command("DELETE FROM blobs WHERE key = @key", transaction).With("@key", key).ExecuteNonQueryAsync(ct);
        }, ct);

    /// <summary>Removes staged blobs older than a day (crash leftovers); returns how many.</summary>
    public Task<int> SweepStagingAsync(CancellationToken ct) =>
        database.WriteAsync(async (connection, transaction) =>
            await connection.Command("DELETE FROM blobs WHERE key IS NULL AND staged_at < @cutoff", transaction)
                .With("@cutoff", (time.GetUtcNow() - StagingMaxAge).ToUnixTimeSeconds()).ExecuteNonQueryAsync(ct), ct);

    private async Task DeleteBlobAsync(long blobId)
    {
        try
        {
            await database.WriteAsync(async (connection, transaction) =>
            {
                await connection.Command("DELETE FROM blobs WHERE id = @id AND key IS NULL", transaction).With("@id", blobId)
                    .ExecuteNonQueryAsync(CancellationToken.None);
            }, CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // Best effort: a leftover staged row is harmless and swept later.
        }
    }

    private static long ParseHandle(StagedBlob staged) =>
        long.Parse(staged.Handle, System.Globalization.CultureInfo.InvariantCulture);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A read-only stream over a blob's parts, fetching one part per round trip.</summary>
    private sealed class PartStream(PostgresDatabase database, long blobId, long length) : Stream
    {
        private byte[] _part = [];
        private int _partOffset;
        private int _nextSeq;
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_partOffset >= _part.Length)
            {
                if (_position >= length)
                {
                    return 0;
                }

                await using var connection = await database.OpenAsync(cancellationToken);
                await using var command = connection.Command("SELECT data FROM blob_parts WHERE blob_id = @blob AND seq = @seq")
                    .With("@blob", blobId).With("@seq", _nextSeq);
                _part = await command.ExecuteScalarAsync(cancellationToken) as byte[]
                    ?? throw new IOException("A part of the blob is missing.");
                _nextSeq++;
                _partOffset = 0;
                if (_part.Length == 0)
                {
                    return 0;
                }
            }

            var n = Math.Min(buffer.Length, _part.Length - _partOffset);
            _part.AsMemory(_partOffset, n).CopyTo(buffer);
            _partOffset += n;
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
