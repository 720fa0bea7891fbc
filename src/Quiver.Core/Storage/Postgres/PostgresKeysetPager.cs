using Npgsql;
using Quiver.Core.Paging;

namespace Quiver.Core.Storage.Postgres;

/// <summary>The provider-typed face of <see cref="KeysetQuery"/> for Postgres repositories.</summary>
internal sealed record PostgresKeysetQuery(string Select, string CursorLookup, string CreatedAtColumn, string IdColumn)
{
    public Task<Page<T>> PageAsync<T>(
        NpgsqlConnection connection,
        ListRequest request,
        Action<NpgsqlCommand> bindScope,
        Func<NpgsqlDataReader, T> map,
        CancellationToken ct) =>
        new KeysetQuery(Select, CursorLookup, CreatedAtColumn, IdColumn)
            .PageAsync(connection, request, command => bindScope((NpgsqlCommand)command), reader => map((NpgsqlDataReader)reader), ct);
}
