using System.Data.Common;

namespace Quiver.Core.Storage;

/// <summary>The ingestion queue's depth by job state: one query, the same SQL on both backends.</summary>
internal static class JobStateCounts
{
    public const string Sql = "SELECT state, COUNT(*) FROM ingestion_jobs GROUP BY state";

    public static async Task<IReadOnlyDictionary<string, long>> ReadAsync(DbCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }
}
