namespace Quiver.Core.Search;

/// <summary>Search settings (config section <c>Quiver:Search</c>).</summary>
public sealed class SearchOptions
{
    public const string Section = "Quiver:Search";

    /// <summary>Default <see cref="HnswMinChunks"/>: the measured switch-over size, see docs/search.md.</summary>
    public const int DefaultHnswMinChunks = 50_000;

    /// <summary>
    /// Embedded backend: a store with at least this many chunks also gets an HNSW graph (built in the background,
    /// saved beside the database), and dense search uses it once it has caught up with the store; smaller stores,
    /// and filters that leave fewer chunks than this, are searched exactly. 0 turns HNSW off. Default 50,000.
    /// </summary>
    public int HnswMinChunks { get; set; } = DefaultHnswMinChunks;

    /// <summary>Default <see cref="PostgresHnswMinChunks"/> (docs/benchmarks.md, "PostgreSQL dense leg").</summary>
    public const int DefaultPostgresHnswMinChunks = 20_000;

    /// <summary>
    /// PostgreSQL backend: a store with more than this many chunks is searched through pgvector's HNSW index (with
    /// iterative scans); smaller stores by an exact scan of their vectors. Default 20,000.
    /// </summary>
    public int PostgresHnswMinChunks { get; set; } = DefaultPostgresHnswMinChunks;

    /// <summary>Default <see cref="PostgresStoreCacheMegabytes"/>.</summary>
    public const int DefaultPostgresStoreCacheMegabytes = 512;

    /// <summary>
    /// PostgreSQL backend: stores of at most <see cref="PostgresHnswMinChunks"/> chunks are searched from this process's
    /// copy of their vectors and of their postings, each copy checked against the store's chunk version on every
    /// search, so a change published by any process shows on the next search. This is each copy's memory budget per
    /// process (vectors up to it, postings up to it); past it the least recently searched stores are dropped and
    /// reloaded when searched again. 0 turns both off (every search runs in PostgreSQL). Default 512.
    /// </summary>
    public int PostgresStoreCacheMegabytes { get; set; } = DefaultPostgresStoreCacheMegabytes;

    /// <summary>How often a changed HNSW graph is written to disk, at most, in seconds. Default 60.</summary>
    public int HnswSaveIntervalSeconds { get; set; } = 60;
}
