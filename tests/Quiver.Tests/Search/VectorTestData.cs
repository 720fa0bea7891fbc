namespace Quiver.Tests.Search;

/// <summary>Deterministic synthetic vectors and a brute-force cosine reference for index tests.</summary>
internal static class VectorTestData
{
    /// <summary>Clustered vectors: <paramref name="clusters"/> random centres plus Gaussian-ish noise, row-major.</summary>
    public static float[] Clustered(int count, int dim, int clusters, int seed, float noise = 0.35f)
    {
        var random = new Random(seed);
        var centres = new float[clusters * dim];
        for (var i = 0; i < centres.Length; i++)
        {
            centres[i] = (float)Gaussian(random);
        }

        var data = new float[count * dim];
        for (var row = 0; row < count; row++)
        {
            var c = random.Next(clusters);
            for (var j = 0; j < dim; j++)
            {
                data[(row * dim) + j] = centres[(c * dim) + j] + (noise * (float)Gaussian(random));
            }
        }

        return data;
    }

    /// <summary>In-distribution queries: <paramref name="count"/> random rows of <paramref name="data"/> plus noise.</summary>
    public static float[] QueriesNear(float[] data, int dim, int count, int seed, float noise = 0.35f)
    {
        var random = new Random(seed);
        var rows = data.Length / dim;
        var queries = new float[count * dim];
        for (var q = 0; q < count; q++)
        {
            var row = random.Next(rows);
            for (var j = 0; j < dim; j++)
            {
                queries[(q * dim) + j] = data[(row * dim) + j] + (noise * (float)Gaussian(random));
            }
        }

        return queries;
    }

    /// <summary>Top-k by cosine (double precision), ties by key ascending.</summary>
    public static (long Key, double Score)[] BruteForce(float[] data, long[] keys, int dim, ReadOnlySpan<float> query, int k, Func<int, bool>? allowedRow = null)
    {
        var q = query.ToArray();
        var scored = new List<(long, double)>();
        for (var row = 0; row < keys.Length; row++)
        {
            if (allowedRow is not null && !allowedRow(row))
            {
                continue;
            }

            double dot = 0, nq = 0, nv = 0;
            for (var j = 0; j < dim; j++)
            {
                var v = data[(row * dim) + j];
                dot += v * q[j];
                nq += q[j] * q[j];
                nv += v * v;
            }

            scored.Add((keys[row], nq == 0 || nv == 0 ? 0 : dot / Math.Sqrt(nq * nv)));
        }

        return [.. scored.OrderByDescending(s => s.Item2).ThenBy(s => s.Item1).Take(k)];
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
