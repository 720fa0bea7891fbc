using System.Data.Common;
using System.Text;
using System.Text.Json;
using Quiver.Core.Storage.Relational;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>
/// The embedded backend's face for the shared repositories: one serialised writer, so reads inside a write
/// transaction need no row locks; one process, so deleting a job row needs no signal beyond the in-process ones;
/// id lists travel as JSON text read by <c>json_each</c>.
/// </summary>
internal sealed class SqliteBackend(SqliteDatabase database) : SqlBackend
{
    public override async Task<DbConnection> OpenAsync(CancellationToken ct) => await database.OpenAsync(ct);

    public override Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct) =>
        database.WriteAsync((connection, transaction) => work(connection, transaction), ct);

    public override bool LimitsUnionBranches => false;

    public override string Lock(RowLock mode) => "";

    public override string DeleteJobs(string where) => $"DELETE FROM ingestion_jobs WHERE {where}";

    public override string? HoldJobs(string where) => null;

    public override string IsAnyOf(string column, string parameter) => $"{column} IN (SELECT value FROM json_each({parameter}))";

    public override object IdList(IReadOnlyList<string> ids)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var id in ids)
            {
                json.WriteStringValue(id);
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
