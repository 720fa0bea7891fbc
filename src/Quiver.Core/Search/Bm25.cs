namespace Quiver.Core.Search;

/// <summary>
/// BM25 exactly as SQLite FTS5's <c>bm25()</c> computes it, so the backends rank alike: k1 = 1.2, b = 0.75,
/// idf = ln((N − n + 0.5) / (n + 0.5)) floored at 1e-6 (a term in more than half the chunks still counts a
/// little), and a chunk's score is the sum over the query terms it contains. FTS5 negates the sum; Quiver
/// reports it positive. PostgreSQL evaluates the same formula in SQL (<c>PostgresChunkSearchStore</c>).
/// </summary>
internal static class Bm25
{
    public const double K1 = 1.2;
    public const double B = 0.75;
    public const double MinIdf = 1e-6;

    /// <summary>Inverse document frequency of a term found in <paramref name="documentFrequency"/> of <paramref name="chunkCount"/> chunks.</summary>
    public static double Idf(long chunkCount, long documentFrequency)
    {
        var idf = Math.Log((chunkCount - documentFrequency + 0.5) / (documentFrequency + 0.5));
        return idf <= 0 ? MinIdf : idf;
    }

    /// <summary>One term's contribution for a chunk of <paramref name="length"/> tokens holding it <paramref name="frequency"/> times.</summary>
    public static double Term(double idf, int frequency, int length, double averageLength) =>
        idf * (frequency * (K1 + 1)) / (frequency + K1 * (1 - B + B * length / averageLength));
}
