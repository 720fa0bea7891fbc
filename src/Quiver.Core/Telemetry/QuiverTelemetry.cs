using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Quiver.Core.Telemetry;

/// <summary>
/// Quiver's own metrics and spans, on the runtime's <see cref="Meter"/> and <see cref="ActivitySource"/> (no
/// OpenTelemetry dependency in Core: the server decides whether and where they are exported). Every instrument
/// is listed with its tags in docs/observability.md; names follow OpenTelemetry's conventions (dotted, unit
/// in the instrument, seconds for durations).
/// </summary>
public static class QuiverTelemetry
{
    public const string Name = "Quiver";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Files that left ingestion, by <c>outcome</c> (completed, failed, retried, cancelled, fenced).</summary>
    public static readonly Counter<long> FilesIngested = Meter.CreateCounter<long>("quiver.ingestion.files", "{file}", "Files that finished an ingestion attempt, by outcome.");

    /// <summary>Chunks published (visible to search).</summary>
    public static readonly Counter<long> ChunksPublished = Meter.CreateCounter<long>("quiver.ingestion.chunks", "{chunk}", "Chunks published by ingestion.");

    /// <summary>Wall time of one file's ingestion attempt, by <c>outcome</c>.</summary>
    public static readonly Histogram<double> FileDuration = Meter.CreateHistogram<double>("quiver.ingestion.file.duration", "s", "Time from claim to settlement of one file.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });

    /// <summary>Extraction failures by <c>kind</c> (the file's <c>last_error.code</c> or the extractor's code).</summary>
    public static readonly Counter<long> ExtractionFailures = Meter.CreateCounter<long>("quiver.ingestion.extraction.failures", "{file}", "Files whose text could not be extracted, by kind.");

    /// <summary>One embedding call's latency, by <c>model</c> and <c>purpose</c> (document, query).</summary>
    public static readonly Histogram<double> EmbeddingDuration = Meter.CreateHistogram<double>("quiver.embedding.duration", "s", "Latency of one embedding call.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    /// <summary>Inputs per embedding call, by <c>model</c> and <c>purpose</c>.</summary>
    public static readonly Histogram<int> EmbeddingBatchSize = Meter.CreateHistogram<int>("quiver.embedding.batch_size", "{input}", "Texts per embedding call.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });

    /// <summary>Search latency by <c>leg</c>: embed, dense, lexical, fusion, fetch, total.</summary>
    public static readonly Histogram<double> SearchDuration = Meter.CreateHistogram<double>("quiver.search.duration", "s", "Latency of a search and of each of its legs.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    /// <summary>From the moment a running job learns it is cancelled to the moment its worker is idle again.</summary>
    public static readonly Histogram<double> CancelToIdle = Meter.CreateHistogram<double>("quiver.ingestion.cancel_to_idle", "s", "Time from a running job's cancel to its worker being idle.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    private static volatile IReadOnlyDictionary<string, long> s_queueDepth = new Dictionary<string, long>();

    /// <summary>Ingestion jobs by <c>state</c>, as last sampled by <see cref="QueueDepthSampler"/> (a gauge callback must not query the database).</summary>
    public static readonly ObservableGauge<long> QueueDepth = Meter.CreateObservableGauge("quiver.ingestion.queue_depth",
        () => s_queueDepth.Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("state", kv.Key))),
        "{job}", "Ingestion jobs in the database, by state (queued, running), across every process.");

    internal static void SetQueueDepth(IReadOnlyDictionary<string, long> counts) => s_queueDepth = counts;

    // The embedded backend's connections and writer lock (SqliteDatabase): process-wide counts, read by the gauges below,
    // which report nothing until a SQLite database is opened (a PostgreSQL server shows no sqlite series).
    private static volatile bool s_sqliteInUse;
    private static long s_sqliteConnectionsOpen;
    private static long s_sqliteWritersWaiting;

    /// <summary>The <c>backend</c> tag of the storage instruments on SQLite.</summary>
    internal static readonly KeyValuePair<string, object?> SqliteBackend = new("backend", "sqlite");

    /// <summary>SQLite connections Quiver has opened and not yet closed (handed back to Microsoft.Data.Sqlite's pool), by <c>backend</c>.</summary>
    public static readonly ObservableGauge<long> StorageConnectionsOpen = Meter.CreateObservableGauge("quiver.storage.connections.open",
        () => SqliteGauge(ref s_sqliteConnectionsOpen),
        "{connection}", "Database connections Quiver holds open right now (in use, not idle in the pool), by backend.");

    /// <summary>Writers waiting for the embedded backend's single writer lock, by <c>backend</c>.</summary>
    public static readonly ObservableGauge<long> StorageWritersWaiting = Meter.CreateObservableGauge("quiver.storage.write.waiting",
        () => SqliteGauge(ref s_sqliteWritersWaiting),
        "{writer}", "Write transactions waiting for the writer lock, by backend.");

    /// <summary>Time a write transaction waited for the writer lock (0 when it was free), by <c>backend</c>.</summary>
    public static readonly Histogram<double> StorageWriteWait = Meter.CreateHistogram<double>("quiver.storage.write.wait.duration", "s", "Time a write transaction waited for the writer lock, by backend.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    private static Measurement<long>[] SqliteGauge(ref long value) =>
        s_sqliteInUse ? [new Measurement<long>(Interlocked.Read(ref value), SqliteBackend)] : [];

    internal static void SqliteInUse() => s_sqliteInUse = true;

    internal static void SqliteConnectionOpened() => Interlocked.Increment(ref s_sqliteConnectionsOpen);

    internal static void SqliteConnectionClosed() => Interlocked.Decrement(ref s_sqliteConnectionsOpen);

    internal static void SqliteWriterWaiting(int delta) => Interlocked.Add(ref s_sqliteWritersWaiting, delta);

    /// <summary>Seconds since <paramref name="start"/> (a <see cref="TimeProvider.GetTimestamp"/> value).</summary>
    internal static double Seconds(TimeProvider time, long start) => time.GetElapsedTime(start).TotalSeconds;
}
