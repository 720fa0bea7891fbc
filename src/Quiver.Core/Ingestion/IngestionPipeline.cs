using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quiver.Core.Chunking;
using Quiver.Core.Embeddings;
using Quiver.Core.Extraction;
using Quiver.Core.Files;
using Quiver.Core.Telemetry;
using Quiver.Core.VectorStores;

namespace Quiver.Core.Ingestion;

/// <summary>
/// Runs one claimed job: extract → chunk → embed → publish.
///
/// Crash consistency: nothing of a file becomes visible until <see cref="IIngestionJobStore.PublishAsync"/>
/// commits all its chunks in one transaction, and that transaction first checks that the claim
/// is still live (same owner, same generation, file still in progress). A crash anywhere before
/// it leaves the job row claimed with a lease that lapses, so the job runs again from the start;
/// a cancel, detach or re-attach meanwhile changes the generation, so late work is discarded.
/// </summary>
internal sealed partial class IngestionPipeline(
    IBlobStore blobs,
    IDocumentExtractor extractor,
    TextChunker chunker,
    IEmbeddingModelRegistry models,
    IIngestionJobStore jobs,
    TimeProvider time,
    IOptions<IngestionOptions> options,
    ILogger<IngestionPipeline> logger)
{
    private readonly IngestionOptions _options = options.Value;

    /// <summary>Outcome of one run, for logs and tests.</summary>
    public enum Outcome
    {
        Completed,
        Failed,
        Retried,
        Fenced,
    }

    /// <summary>Processes <paramref name="job"/>; <paramref name="ct"/> is cancelled when the job is cancelled or the host stops.</summary>
    public async Task<Outcome> RunAsync(ClaimedJob job, CancellationToken ct)
    {
        // The job's spans continue the trace of the request that attached the file, when it had one.
        using var activity = ActivityContext.TryParse(job.TraceParent, null, out var attach)
            ? QuiverTelemetry.Source.StartActivity("ingest.file", ActivityKind.Consumer, attach)
            : QuiverTelemetry.Source.StartActivity("ingest.file", ActivityKind.Consumer);
        activity?.SetTag("quiver.vector_store.id", job.VectorStoreId);
        activity?.SetTag("quiver.file.id", job.FileId);
        activity?.SetTag("quiver.attempt", job.Attempts);
        var started = time.GetTimestamp();
        var outcome = await RunStagesAsync(job, started, ct);
        var tag = new KeyValuePair<string, object?>("outcome", outcome switch
        {
            Outcome.Completed => "completed",
            Outcome.Failed => "failed",
            Outcome.Retried => "retried",
            _ => "fenced", // cancelled, detached, superseded, or shutting down
        });
        QuiverTelemetry.FilesIngested.Add(1, tag);
        QuiverTelemetry.FileDuration.Record(QuiverTelemetry.Seconds(time, started), tag);
        activity?.SetTag("quiver.outcome", tag.Value);
        if (outcome == Outcome.Failed)
        {
            activity?.SetStatus(ActivityStatusCode.Error);
        }

        return outcome;
    }

    private async Task<Outcome> RunStagesAsync(ClaimedJob job, long started, CancellationToken ct)
    {
        try
        {
            ExtractedText extracted;
            using (QuiverTelemetry.Source.StartActivity("ingest.extract"))
            {
                await using var local = await blobs.GetLocalPathAsync(job.FileId, ct);
                extracted = await extractor.ExtractAsync(local.Path, job.Filename, ct);
            }

            IReadOnlyList<TextChunk> pieces;
            using (QuiverTelemetry.Source.StartActivity("ingest.chunk"))
            {
                pieces = chunker.Chunk(extracted.Text, job.MaxChunkSizeTokens, job.ChunkOverlapTokens);
            }

            if (pieces.Count == 0)
            {
                QuiverTelemetry.ExtractionFailures.Add(1, new KeyValuePair<string, object?>("kind", "no_text"));
                return await FailAsync(job, IngestionErrorCodes.InvalidFile, "The file contains no text to index.", ct);
            }

            long tokens = 0;
            foreach (var piece in pieces)
            {
                tokens += piece.TokenCount;
            }

            if (tokens > _options.MaxFileTokens)
            {
                return await FailAsync(job, IngestionErrorCodes.InvalidFile,
                    $"The file has {tokens} tokens; the maximum per file is {_options.MaxFileTokens}. Split it into smaller files.", ct);
            }

            if (!models.TryResolve(job.EmbeddingModel, out var model))
            {
                return await FailAsync(job, IngestionErrorCodes.ServerError,
                    $"The vector store's embedding model '{job.EmbeddingModel}' is not configured on this server.", ct);
            }

            var chunks = new List<ChunkToPublish>(pieces.Count);
            long usage = 0;
            var batchSize = Math.Max(1, _options.EmbeddingBatchSize);
            using var embedding = QuiverTelemetry.Source.StartActivity("ingest.embed");
            embedding?.SetTag("quiver.chunks", pieces.Count);
            for (var offset = 0; offset < pieces.Count; offset += batchSize)
            {
                ct.ThrowIfCancellationRequested();
                var batch = pieces.Skip(offset).Take(batchSize).ToList();
                var vectors = await model.EmbedDocumentsAsync([.. batch.Select(p => p.Text)], ct);
                for (var i = 0; i < batch.Count; i++)
                {
                    if (vectors[i].Length != model.Info.Dimensions)
                    {
                        return await FailAsync(job, IngestionErrorCodes.ServerError,
                            $"The embedding model returned {vectors[i].Length} dimensions but the vector store expects {model.Info.Dimensions}.", ct);
                    }

                    chunks.Add(new ChunkToPublish(batch[i].Index, batch[i].Text, batch[i].TokenCount, vectors[i]));
                    usage += Encoding.UTF8.GetByteCount(batch[i].Text) + (long)vectors[i].Length * sizeof(float);
                }
            }

            embedding?.Dispose();
            ct.ThrowIfCancellationRequested();
            using (QuiverTelemetry.Source.StartActivity("ingest.publish"))
            {
                if (!await jobs.PublishAsync(job, chunks, extracted.Text, usage, CancellationToken.None))
                {
                    LogFenced(logger, job.FileId, job.VectorStoreId, job.Generation);
                    return Outcome.Fenced;
                }
            }

            QuiverTelemetry.ChunksPublished.Add(chunks.Count);

            LogCompleted(logger, job.FileId, job.VectorStoreId, chunks.Count, (long)time.GetElapsedTime(started).TotalMilliseconds);
            return Outcome.Completed;
        }
        catch (ExtractionException e)
        {
            QuiverTelemetry.ExtractionFailures.Add(1, new KeyValuePair<string, object?>("kind", e.Code));
            return await FailAsync(job, e.Code, e.Message, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Cancelled, detached, superseded or shutting down: whoever cancelled settled the row;
            // on shutdown the worker hands the claim back for another process or the restart.
            return Outcome.Fenced;
        }
        catch (Exception e) when (e is EmbeddingException { IsTransient: false })
        {
            LogFailed(logger, e, job.FileId, job.VectorStoreId);
            return await FailAsync(job, IngestionErrorCodes.ServerError, "The embedding model rejected the file's text. Check the server's embedding configuration.", ct);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Transient (embedding 429/5xx, I/O, database busy) or unknown: retry with backoff, then give up.
            if (job.Attempts >= _options.MaxAttempts)
            {
                LogFailed(logger, e, job.FileId, job.VectorStoreId);
                return await FailAsync(job, IngestionErrorCodes.ServerError,
                    $"Processing failed {job.Attempts} times with an internal error. Re-attach the file to try again.", ct);
            }

            var delay = Backoff(job.Attempts);
            LogRetrying(logger, e, job.FileId, job.VectorStoreId, job.Attempts, (long)delay.TotalMilliseconds);
            await jobs.RetryLaterAsync(job, time.GetUtcNow().ToUnixTimeMilliseconds() + (long)delay.TotalMilliseconds, CancellationToken.None);
            return Outcome.Retried;
        }
    }

    /// <summary>Exponential backoff with jitter: 1 s, 2 s, 4 s … capped at 60 s.</summary>
    internal static TimeSpan Backoff(int attempt)
    {
        var seconds = Math.Min(60, Math.Pow(2, Math.Max(0, attempt - 1)));
        return TimeSpan.FromSeconds(seconds * (0.8 + Random.Shared.NextDouble() * 0.4));
    }

    private async Task<Outcome> FailAsync(ClaimedJob job, string code, string message, CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
        {
            return Outcome.Fenced;
        }

        return await jobs.FailAsync(job, code, message, CancellationToken.None) ? Outcome.Failed : Outcome.Fenced;
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Ingested {FileId} into {VectorStoreId}: {ChunkCount} chunks in {ElapsedMs} ms")]
    private static partial void LogCompleted(ILogger logger, string fileId, string vectorStoreId, int chunkCount, long elapsedMs);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Discarded work for {FileId} in {VectorStoreId}: generation {Generation} is no longer live")]
    private static partial void LogFenced(ILogger logger, string fileId, string vectorStoreId, long generation);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Retrying {FileId} in {VectorStoreId} after attempt {Attempt} in {DelayMs} ms")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string fileId, string vectorStoreId, int attempt, long delayMs);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "Failed {FileId} in {VectorStoreId}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string fileId, string vectorStoreId);
}
