namespace Quiver.Core.Ingestion;

/// <summary>Background ingestion settings (config section <c>Quiver:Ingestion</c>).</summary>
public sealed class IngestionOptions
{
    public const string Section = "Quiver:Ingestion";

    /// <summary>Concurrent jobs in this process; 0 means one per processor.</summary>
    public int Workers { get; set; }

    /// <summary>Lease length in seconds; a claim not renewed within it may be taken by another worker. Default 60.</summary>
    public int LeaseSeconds { get; set; } = 60;

    /// <summary>Longest one attempt may run before the watchdog fails the file with <c>server_error</c>, in seconds. Default 1800.</summary>
    public int JobTimeoutSeconds { get; set; } = 1800;

    /// <summary>Attempts before a file with transient failures is failed. Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Chunks embedded per call; cancellation and leases are checked between calls. Default 32.</summary>
    public int EmbeddingBatchSize { get; set; } = 32;

    /// <summary>Largest file accepted, in cl100k_base tokens of extracted text; larger files fail with <c>invalid_file</c>. Default 5,000,000.</summary>
    public long MaxFileTokens { get; set; } = 5_000_000;

    /// <summary>How often the watchdog and expiry sweeper run, in seconds (at most 2,592,000 = 30 days). Default 5.</summary>
    public int SweepIntervalSeconds { get; set; } = 5;

    /// <summary>The worker count after applying the default.</summary>
    public int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;
}
