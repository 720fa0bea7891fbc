using Microsoft.Data.Sqlite;
using Quiver.Core.Paging;

namespace Quiver.Core.Storage.Sqlite;

/// <summary>The provider-typed face of <see cref="KeysetQuery"/> for Sqlite repositories.</summary>
internal sealed record SqliteKeysetQuery(string Select, string CursorLookup, string CreatedAtColumn, string IdColumn)
{
    public Task<Page<T>> PageAsync<T>(
        SqliteConnection connection,
        ListRequest request,
        Action<SqliteCommand> bindScope,
        Func<SqliteDataReader, T> map,
        CancellationToken ct) =>
        new KeysetQuery(Select, CursorLookup, CreatedAtColumn, IdColumn)
            .PageAsync(connection, request, command => bindScope((SqliteCommand)command), reader => map((SqliteDataReader)reader), ct);
}
