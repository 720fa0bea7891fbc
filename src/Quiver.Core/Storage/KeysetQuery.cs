using System.Data.Common;
using Quiver.Core.Errors;
using Quiver.Core.Paging;

namespace Quiver.Core.Storage;

/// <summary>
/// Keyset pagination over <c>(created_at, id)</c> (D13): a cursor is an object id whose sort key
/// is looked up, and the page continues strictly after (or before) that key. Stable under
/// concurrent inserts because no offset is involved. Shared by both backends (the SQL uses only
/// row-value comparison, which SQLite and PostgreSQL both support) on ADO.NET's provider-neutral types.
/// </summary>
/// <param name="Select">The SELECT with its scoping WHERE clause (no ORDER BY / LIMIT).</param>
/// <param name="CursorLookup">A query returning <c>created_at</c> of the cursor row <c>@cursor</c> within the same scope.</param>
/// <param name="CreatedAtColumn">The column holding <c>created_at</c> (qualified if needed).</param>
/// <param name="IdColumn">The column holding the object id.</param>
/// <param name="UnionSelect">
/// Optional second branch over the same columns and alias, for rows the first cannot reach by its index (objects
/// shared with the principal): both branches get the keyset bounds and are merged by one compound
/// <c>ORDER BY … LIMIT</c> on the result's column names, which SQLite answers by merging the two index-ordered
/// branches and stopping once the page is full. PostgreSQL sorts a compound's whole result instead, so there
/// (<c>limitEachBranch</c>) each branch is ordered and limited on its own first. The branches must not overlap.
/// </param>
internal sealed record KeysetQuery(string Select, string CursorLookup, string CreatedAtColumn, string IdColumn, string? UnionSelect = null)
{
    public async Task<Page<T>> PageAsync<T>(
        DbConnection connection,
        ListRequest request,
        Action<DbCommand> bindScope,
        Func<DbDataReader, T> map,
        CancellationToken ct,
        bool limitEachBranch = false)
    {
        var after = request.After is null ? (long?)null : await LookupAsync(connection, request.After, "after", bindScope, ct);
        var before = request.Before is null ? (long?)null : await LookupAsync(connection, request.Before, "before", bindScope, ct);

        var ascending = request.Order == SortOrder.Asc;
        // Paging backwards (only `before`): walk the opposite way from the cursor, then flip the page.
        var reverse = request.Before is not null && request.After is null;
        var walkAscending = ascending ^ reverse;

        var bounds = new System.Text.StringBuilder();
        var key = $"({CreatedAtColumn}, {IdColumn})";
        if (after is not null)
        {
            bounds.Append($" AND {key} {(ascending ? ">" : "<")} (@after_created, @after_id)");
        }

        if (before is not null)
        {
            bounds.Append($" AND {key} {(ascending ? "<" : ">")} (@before_created, @before_id)");
        }

        var direction = walkAscending ? "ASC" : "DESC";
        var order = $" ORDER BY {CreatedAtColumn} {direction}, {IdColumn} {direction} LIMIT @limit_plus_one";
        var sql = new System.Text.StringBuilder();
        if (UnionSelect is null)
        {
            sql.Append(Select).Append(bounds).Append(order);
        }
        else
        {
            if (limitEachBranch)
            {
                sql.Append("SELECT * FROM (").Append(Select).Append(bounds).Append(order).Append(") AS first_branch UNION ALL SELECT * FROM (")
                    .Append(UnionSelect).Append(bounds).Append(order).Append(") AS second_branch");
            }
            else
            {
                sql.Append(Select).Append(bounds).Append(" UNION ALL ").Append(UnionSelect).Append(bounds);
            }

            // A compound ORDER BY names result columns, not a branch's table alias.
            sql.Append($" ORDER BY {Unqualified(CreatedAtColumn)} {direction}, {Unqualified(IdColumn)} {direction} LIMIT @limit_plus_one");
        }

        await using var command = connection.CreateCommand();
        command.CommandText = sql.ToString();
        bindScope(command);
        if (after is not null)
        {
            Add(command, "@after_created", after.Value);
            Add(command, "@after_id", request.After);
        }

        if (before is not null)
        {
            Add(command, "@before_created", before.Value);
            Add(command, "@before_id", request.Before);
        }

        Add(command, "@limit_plus_one", request.Limit + 1);

        var items = new List<T>(Math.Min(request.Limit + 1, 1024));
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                items.Add(map(reader));
            }
        }

        var hasMore = items.Count > request.Limit;
        if (hasMore)
        {
            items.RemoveAt(items.Count - 1);
        }

        if (reverse)
        {
            items.Reverse();
        }

        return new Page<T>(items, hasMore);
    }

    private async Task<long> LookupAsync(DbConnection connection, string cursor, string param, Action<DbCommand> bindScope, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = CursorLookup;
        bindScope(command);
        Add(command, "@cursor", cursor);
        var value = await command.ExecuteScalarAsync(ct);
        return value is long createdAt
            ? createdAt
            : throw ApiErrors.BadRequest(
                $"Invalid '{param}': no object with id '{ApiErrors.Truncate(cursor)}' exists in this list. Use an id from a previous page.",
                param, "invalid_cursor");
    }

    private static string Unqualified(string column) => column[(column.LastIndexOf('.') + 1)..];

    private static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
