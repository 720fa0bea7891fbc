namespace Quiver.Core.Search;

/// <summary>
/// The storage side of search for one vector store: which files can be searched (for filters),
/// dense and lexical candidate retrieval restricted to allowed files before the top-k cut, and
/// the text of the chosen chunks. Each backend implements retrieval its own way (in-memory
/// exact index over SQLite; pgvector and tsvector in PostgreSQL).
/// </summary>
public interface IChunkSearchStore
{
    /// <summary>Files of the store that have searchable chunks, with their names and attributes.</summary>
    Task<IReadOnlyList<SearchableFile>> GetSearchableFilesAsync(string storeId, CancellationToken ct);

    /// <summary>Top <paramref name="k"/> chunks by cosine similarity to each query (unit vectors), only from <paramref name="allowedFiles"/> when given.</summary>
    Task<IReadOnlyList<IReadOnlyList<SearchHit>>> DenseSearchAsync(string storeId, int dimensions, IReadOnlyList<float[]> queries, int k, IReadOnlySet<string>? allowedFiles, CancellationToken ct);

    /// <summary>Top <paramref name="k"/> chunks by BM25 for <paramref name="query"/> (scores positive, higher better), only from <paramref name="allowedFiles"/> when given.</summary>
    Task<IReadOnlyList<SearchHit>> LexicalSearchAsync(string storeId, string query, int k, IReadOnlySet<string>? allowedFiles, CancellationToken ct);

    /// <summary>The chunks with these keys that still exist, with their file's name and current attributes.</summary>
    Task<IReadOnlyDictionary<long, ChunkContent>> GetChunksAsync(string storeId, IReadOnlyList<long> keys, CancellationToken ct);
}

/// <summary>A file that search can return, with what filters look at.</summary>
public sealed record SearchableFile(string FileId, string Filename, VectorStores.AttributeMap Attributes);

/// <summary>A chunk's text and file, for a search result.</summary>
public sealed record ChunkContent(long Key, string FileId, string Filename, VectorStores.AttributeMap Attributes, string Text);
