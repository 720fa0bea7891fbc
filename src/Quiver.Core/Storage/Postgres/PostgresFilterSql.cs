using System.Text;
using Npgsql;
using NpgsqlTypes;
using Quiver.Core.Search;

namespace Quiver.Core.Storage.Postgres;

/// <summary>
/// Pushes an attribute filter into PostgreSQL as a predicate on a chunk's file, so retrieval restricts its
/// candidates before the LIMIT without the service listing the store's files. Keys and values are bound
/// parameters, never SQL text: the filter stays data, as when it is evaluated in memory.
/// </summary>
/// <remarks>
/// Same semantics as <see cref="AttributeFilter.Matches"/>: a value only compares with an attribute of its own
/// JSON kind, so a missing key or another kind is false for every operator, <c>ne</c> and <c>nin</c> included.
/// Numbers compare as float8 (as <see cref="double"/> does in memory); strings in code-point order (COLLATE "C"),
/// which equals the in-memory UTF-16 ordinal order except between a character above U+FFFF and one in
/// U+E000–U+FFFF. An attribute number beyond float8's range matches no comparison here.
/// </remarks>
internal static class PostgresFilterSql
{
    /// <summary>
    /// <c>file_id IN (…)</c> for the files of <c>@store</c> that pass <paramref name="filter"/>, adding its
    /// parameters to <paramref name="command"/>; <paramref name="fileColumn"/> is the chunk's file id column.
    /// </summary>
    public static string FilesPassing(AttributeFilter filter, NpgsqlCommand command, string fileColumn)
    {
        var sql = new StringBuilder();
        sql.Append(fileColumn).Append(" IN (SELECT vf.file_id FROM vector_store_files vf CROSS JOIN LATERAL (SELECT vf.attributes::jsonb AS a) attrs ")
            .Append("WHERE vf.vector_store_id = @store AND vf.status IN ('completed', 'in_progress') AND ");
        var counter = 0;
        Append(filter, sql, command, ref counter);
        return sql.Append(')').ToString();
    }

    private static void Append(AttributeFilter filter, StringBuilder sql, NpgsqlCommand command, ref int counter)
    {
        switch (filter)
        {
            case CompoundFilter compound:
                sql.Append('(');
                for (var i = 0; i < compound.Filters.Count; i++)
                {
                    if (i > 0)
                    {
                        sql.Append(compound.IsAnd ? " AND " : " OR ");
                    }

                    Append(compound.Filters[i], sql, command, ref counter);
                }

                sql.Append(')');
                break;
            case ComparisonFilter comparison:
                AppendComparison(comparison, sql, command, counter++);
                break;
            default:
                throw new InvalidOperationException($"Unknown filter node {filter.GetType().Name}.");
        }
    }

    private static void AppendComparison(ComparisonFilter filter, StringBuilder sql, NpgsqlCommand command, int n)
    {
        var key = $"fk{n}";
        var value = $"fv{n}";
        command.Parameters.Add(new NpgsqlParameter(key, NpgsqlDbType.Text) { Value = filter.Key });

        // CASE, not AND: SQL does not promise to evaluate the kind test before the cast, and a cast of another
        // kind (e.g. a string as numeric) would fail the query. Another kind yields NULL, which COALESCE makes false.
        var attribute = filter.Kind switch
        {
            FilterValueKind.String =>
                $"(CASE WHEN jsonb_typeof(attrs.a -> @{key}) = 'string' THEN (attrs.a ->> @{key}) COLLATE \"C\" END)",
            // The range guard keeps a number beyond float8's range from failing the cast (it matches nothing instead).
            FilterValueKind.Number =>
                $"(CASE WHEN jsonb_typeof(attrs.a -> @{key}) = 'number' THEN (CASE WHEN abs((attrs.a ->> @{key})::numeric) <= 1.7976931348623157e308 THEN (attrs.a ->> @{key})::numeric::float8 END) END)",
            _ => $"(CASE WHEN jsonb_typeof(attrs.a -> @{key}) = 'boolean' THEN (attrs.a ->> @{key})::boolean END)",
        };

        var many = filter.Operator is FilterOperator.In or FilterOperator.Nin;
        command.Parameters.Add(Parameter(value, filter, many));
        var comparison = filter.Operator switch
        {
            FilterOperator.Eq => $"{attribute} = @{value}",
            FilterOperator.Ne => $"{attribute} <> @{value}",
            FilterOperator.Gt => $"{attribute} > @{value}",
            FilterOperator.Gte => $"{attribute} >= @{value}",
            FilterOperator.Lt => $"{attribute} < @{value}",
            FilterOperator.Lte => $"{attribute} <= @{value}",
            FilterOperator.In => $"{attribute} = ANY(@{value})",
            FilterOperator.Nin => $"NOT ({attribute} = ANY(@{value}))",
            _ => throw new InvalidOperationException($"Unknown operator {filter.Operator}."),
        };

        // COALESCE: a NULL comparison (missing key, other kind, out-of-range number) is false, also for ne and nin.
        sql.Append("COALESCE(").Append(comparison).Append(", false)");
    }

    private static NpgsqlParameter Parameter(string name, ComparisonFilter filter, bool many)
    {
        var values = filter.Values;
        return filter.Kind switch
        {
            FilterValueKind.String => many
                ? new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.Select(v => v.Text!).ToArray() }
                : new NpgsqlParameter(name, NpgsqlDbType.Text) { Value = values[0].Text! },
            FilterValueKind.Number => many
                ? new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Double) { Value = values.Select(v => v.Number).ToArray() }
                : new NpgsqlParameter(name, NpgsqlDbType.Double) { Value = values[0].Number },
            _ => many
                ? new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Boolean) { Value = values.Select(v => v.Boolean).ToArray() }
                : new NpgsqlParameter(name, NpgsqlDbType.Boolean) { Value = values[0].Boolean },
        };
    }
}
