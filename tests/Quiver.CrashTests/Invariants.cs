using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Quiver.CrashTests;

/// <summary>What a scenario did, as the checker needs it: every upload it saw succeed, with its unique phrase;
/// the files whose attach the server acknowledged; the batches it created.</summary>
internal sealed class Ledger
{
    public Dictionary<string, string> Phrases { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Attached { get; } = new(StringComparer.Ordinal);

    public List<string> Batches { get; } = [];
}

/// <summary>The figures a check produced; <see cref="Failures"/> empty means every invariant held.</summary>
internal sealed class CheckResult
{
    public List<string> Failures { get; } = [];

    public int Files { get; set; }

    public int Completed { get; set; }

    public int Cancelled { get; set; }

    public int Failed { get; set; }

    public int Searches { get; set; }

    public long UsageBytes { get; set; }

    public double SettleSeconds { get; set; }

    public void Expect(bool condition, string failure)
    {
        if (!condition)
        {
            Failures.Add(failure);
        }
    }

    public override string ToString() =>
        $"{Files} store files ({Completed} completed, {Cancelled} cancelled, {Failed} failed), {Searches} phrase searches, usage {UsageBytes} B, settled in {SettleSeconds:F1} s";
}

/// <summary>
/// The end-of-run checks of docs/reliability.md, through the API and (read-only) in the database.
/// </summary>
internal static class Invariants
{
    private static readonly string[] Terminal = ["completed", "failed", "cancelled"];

    public static async Task<CheckResult> CheckAsync(QuiverApi api, Backend backend, string storeId, Ledger ledger, TimeSpan settleTimeout, CancellationToken ct)
    {
        var result = new CheckResult();

        // 1. Settle: nothing in progress (the workers finish or the fence discards what was cancelled).
        var clock = Stopwatch.StartNew();
        JsonNode store;
        while (true)
        {
            store = await api.RequireAsync(HttpMethod.Get, $"/v1/vector_stores/{storeId}", ct: ct);
            if ((long)store["file_counts"]!["in_progress"]! == 0)
            {
                break;
            }

            if (clock.Elapsed > settleTimeout)
            {
                result.Failures.Add($"stuck: {store["file_counts"]!.ToJsonString()} still in progress after {settleTimeout.TotalSeconds:F0} s");
                break;
            }

            await Task.Delay(250, ct);
        }

        result.SettleSeconds = clock.Elapsed.TotalSeconds;

        // 2. Every store file terminal; the store's file_counts equal the per-status counts of the listed files.
        var files = await api.ListAllAsync($"/v1/vector_stores/{storeId}/files", ct);
        store = await api.RequireAsync(HttpMethod.Get, $"/v1/vector_stores/{storeId}", ct: ct);
        var byStatus = files.GroupBy(f => (string)f["status"]!).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        result.Files = files.Count;
        result.Completed = byStatus.GetValueOrDefault("completed");
        result.Cancelled = byStatus.GetValueOrDefault("cancelled");
        result.Failed = byStatus.GetValueOrDefault("failed");
        foreach (var file in files.Where(f => !Terminal.Contains((string)f["status"]!)))
        {
            result.Failures.Add($"stuck: file {file["id"]} is {file["status"]}");
        }

        foreach (var file in files.Where(f => (string)f["status"]! == "failed"))
        {
            result.Failures.Add($"failed: file {file["id"]}: {file["last_error"]?.ToJsonString()}");
        }

        CompareCounts(result, $"store {storeId}", store["file_counts"]!, byStatus, files.Count);

        // 3. Nothing lost: every acknowledged attach is listed, every acknowledged upload still exists.
        var listed = files.Select(f => (string)f["id"]!).ToHashSet(StringComparer.Ordinal);
        result.Expect(listed.Count == files.Count, $"duplicated: {files.Count - listed.Count} file ids listed twice");
        foreach (var id in ledger.Attached.Where(id => !listed.Contains(id)))
        {
            result.Failures.Add($"lost: attached file {id} is not in the store");
        }

        foreach (var id in ledger.Phrases.Keys)
        {
            var (status, _) = await api.SendAsync(HttpMethod.Get, $"/v1/files/{id}", ct: ct);
            result.Expect(status == 200, $"lost: uploaded file {id} answers {status}");
        }

        // 4. Every batch terminal; its file_counts equal the per-status counts of its listed files.
        foreach (var batchId in ledger.Batches)
        {
            var batch = await api.RequireAsync(HttpMethod.Get, $"/v1/vector_stores/{storeId}/file_batches/{batchId}", ct: ct);
            var members = await api.ListAllAsync($"/v1/vector_stores/{storeId}/file_batches/{batchId}/files", ct);
            var memberStatus = members.GroupBy(f => (string)f["status"]!).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            result.Expect((string)batch["status"]! != "in_progress", $"stuck: batch {batchId} is in_progress: {batch["file_counts"]!.ToJsonString()}");
            CompareCounts(result, $"batch {batchId}", batch["file_counts"]!, memberStatus, members.Count);
        }

        // 5. usage_bytes: the store's equals the sum over its completed files and the sum recomputed from the chunk rows.
        var usage = (long)store["usage_bytes"]!;
        result.UsageBytes = usage;
        var fileUsage = files.Where(f => (string)f["status"]! == "completed").Sum(f => (long)f["usage_bytes"]!);
        result.Expect(usage == fileUsage, $"usage: store usage_bytes {usage} != sum over completed files {fileUsage}");

        // 6. In the database: no chunk duplicated or orphaned, chunks only and always for completed files, no job
        //    or member left in progress, members agree with the file rows of their batch.
        await using (var db = await backend.OpenReadOnlyAsync(ct))
        {
            var recomputed = backend.IsPostgres
                ? "SELECT COALESCE(SUM(octet_length(c.text) + 4 * v.dims), 0) FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id WHERE c.vector_store_id = @s"
                : "SELECT COALESCE(SUM(length(CAST(c.text AS BLOB)) + length(c.embedding)), 0) FROM chunks c WHERE c.vector_store_id = @s";
            (string Name, string Sql)[] zeros =
            [
                ("orphaned chunks (file not completed or not attached)", """
                    SELECT COUNT(*) FROM chunks c WHERE c.vector_store_id = @s AND NOT EXISTS (
                        SELECT 1 FROM vector_store_files f WHERE f.vector_store_id = c.vector_store_id AND f.file_id = c.file_id AND f.status = 'completed')
                    """),
                ("duplicated chunks (same file and chunk_index twice)", """
                    SELECT COUNT(*) FROM (SELECT file_id, chunk_index FROM chunks WHERE vector_store_id = @s
                        GROUP BY file_id, chunk_index HAVING COUNT(*) > 1) d
                    """),
                ("files whose chunk indexes are not 0..n-1", """
                    SELECT COUNT(*) FROM (SELECT file_id FROM chunks WHERE vector_store_id = @s
                        GROUP BY file_id HAVING MIN(chunk_index) <> 0 OR MAX(chunk_index) + 1 <> COUNT(*)) d
                    """),
                ("completed files without chunks", """
                    SELECT COUNT(*) FROM vector_store_files f WHERE f.vector_store_id = @s AND f.status = 'completed'
                        AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.vector_store_id = f.vector_store_id AND c.file_id = f.file_id)
                    """),
                ("ingestion jobs left", "SELECT COUNT(*) FROM ingestion_jobs WHERE vector_store_id = @s"),
                ("batch members in progress", """
                    SELECT COUNT(*) FROM file_batch_members m JOIN file_batches b ON b.id = m.batch_id
                    WHERE b.vector_store_id = @s AND m.status = 'in_progress'
                    """),
                ("members whose status differs from their file row", """
                    SELECT COUNT(*) FROM vector_store_files f JOIN file_batch_members m ON m.batch_id = f.batch_id AND m.file_id = f.file_id
                    WHERE f.vector_store_id = @s AND m.status <> f.status
                    """),
                ("files of a batch without a member row", """
                    SELECT COUNT(*) FROM vector_store_files f WHERE f.vector_store_id = @s AND f.batch_id IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM file_batch_members m WHERE m.batch_id = f.batch_id AND m.file_id = f.file_id)
                    """),
            ];
            foreach (var (name, sql) in zeros)
            {
                var count = (long)(await Backend.ScalarAsync(db, sql, storeId, ct))!;
                result.Expect(count == 0, $"database: {count} {name}");
            }

            var fromChunks = (long)(await Backend.ScalarAsync(db, recomputed, storeId, ct))!;
            result.Expect(usage == fromChunks, $"usage: store usage_bytes {usage} != {fromChunks} recomputed from the chunk rows");
            if (!backend.IsPostgres)
            {
                var integrity = (string?)await Backend.ScalarAsync(db, "PRAGMA integrity_check", storeId, ct);
                result.Expect(integrity == "ok", $"database: integrity_check says {integrity}");
            }
        }

        // 7. The unique phrase of each completed file is found exactly once (and that of any other file never).
        //    The phrase's last word is a random nonsense token, so the lexical leg ranks only that file's chunk
        //    first; a duplicated chunk would come back twice, a lost one not at all.
        var statusById = files.ToDictionary(f => (string)f["id"]!, f => (string)f["status"]!, StringComparer.Ordinal);
        foreach (var (fileId, phrase) in ledger.Phrases)
        {
            var status = statusById.GetValueOrDefault(fileId);
            var page = await api.RequireAsync(HttpMethod.Post, $"/v1/vector_stores/{storeId}/search",
                new JsonObject { ["query"] = phrase, ["max_num_results"] = 10 }, ct);
            result.Searches++;
            var hits = page["data"]!.AsArray()
                .Where(r => r!["content"]!.AsArray().Any(c => ((string)c!["text"]!).Contains(phrase, StringComparison.Ordinal)))
                .Select(r => (string)r!["file_id"]!)
                .ToList();
            var expected = status == "completed" ? 1 : 0;
            result.Expect(hits.Count == expected && hits.All(h => h == fileId),
                $"search: phrase of {fileId} ({status ?? "not attached"}) found {hits.Count} times (expected {expected}) in [{string.Join(", ", hits)}]");
        }

        return result;
    }

    private static void CompareCounts(CheckResult result, string what, JsonNode counts, Dictionary<string, int> byStatus, int total)
    {
        foreach (var status in Terminal.Append("in_progress"))
        {
            var reported = (long)counts[status]!;
            result.Expect(reported == byStatus.GetValueOrDefault(status), $"counts: {what} reports {status} = {reported}, its listed files {byStatus.GetValueOrDefault(status)}");
        }

        result.Expect((long)counts["total"]! == total, $"counts: {what} reports total = {counts["total"]}, listed {total}");
    }
}
