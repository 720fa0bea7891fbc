namespace Quiver.Core.Search;

/// <summary>
/// The storage side of search for one vector store: dense and lexical candidate retrieval, each restricted to
/// the files that pass the attribute filter before its top-k cut, and the text of the chosen chunks. Each backend
/// implements retrieval and the filter its own way (in-memory indexes and a per-store file cache over SQLite;
/// pgvector, term statistics and a SQL predicate in PostgreSQL), so a search never ships the store's files up to
/// the service and an id set back down.
/// </summary>
internal interface IChunkSearchStore
{
    /// <summary>Top <paramref name="k"/> chunks by cosine similarity to each query (unit vectors), only from files passing <paramref name="filter"/> when given.</summary>
    Task<IReadOnlyList<IReadOnlyList<SearchHit>>> DenseSearchAsync(string storeId, int dimensions, IReadOnlyList<float[]> queries, int k, AttributeFilter? filter, CancellationToken ct);

    /// <summary>Top <paramref name="k"/> chunks by BM25 for <paramref name="query"/> (scores positive, higher better), only from files passing <paramref name="filter"/> when given.</summary>
    Task<IReadOnlyList<SearchHit>> LexicalSearchAsync(string storeId, string query, int k, AttributeFilter? filter, CancellationToken ct);

    /// <summary>The chunks with these keys that still exist, with their file's name and current attributes.</summary>
    Task<IReadOnlyDictionary<long, ChunkContent>> GetChunksAsync(string storeId, IReadOnlyList<long> keys, CancellationToken ct);
}

/// <summary>A chunk's text and file, for a search result.</summary>
internal sealed record ChunkContent(long Key, string FileId, string Filename, VectorStores.AttributeMap Attributes, string Text);
