using System.Data;
using System.Data.Common;

namespace Quiver.Core.Storage.Relational;

/// <summary>Small conveniences, on ADO.NET's provider-neutral types, that keep the shared repositories to their SQL.</summary>
internal static class SqlCommandExtensions
{
    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>A parameter whose type follows its value (null binds as an untyped NULL).</summary>
    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }

    /// <summary>A text parameter that may be null, its type stated so PostgreSQL need not infer it.</summary>
    public static DbCommand WithText(this DbCommand command, string name, string? value) => command.With(name, value, DbType.String);

    /// <summary>A bigint parameter that may be null, its type stated so PostgreSQL need not infer it.</summary>
    public static DbCommand WithInt64(this DbCommand command, string name, long? value) => command.With(name, value, DbType.Int64);

    private static DbCommand With(this DbCommand command, string name, object? value, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }

    public static string? GetNullableString(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? GetNullableInt64(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    /// <summary>Runs the command (and disposes it) and reads its first column as strings.</summary>
    public static async Task<IReadOnlyList<string>> ReadStringsAsync(this DbCommand command, CancellationToken ct)
    {
        var values = new List<string>();
        await using (command)
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                values.Add(reader.GetString(0));
            }
        }

        return values;
    }
}
