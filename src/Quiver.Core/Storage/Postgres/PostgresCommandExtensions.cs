using Npgsql;

namespace Quiver.Core.Storage.Postgres;

/// <summary>Small conveniences that keep repository methods to their SQL.</summary>
internal static class PostgresCommandExtensions
{
    public static NpgsqlCommand Command(this NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction = null) =>
        new(sql, connection, transaction);

    public static NpgsqlCommand With(this NpgsqlCommand command, string name, object? value)
    {
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    /// <summary>A parameter whose value may be null, with its type stated so PostgreSQL need not infer it.</summary>
    public static NpgsqlCommand WithText(this NpgsqlCommand command, string name, string? value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value });
        return command;
    }

    /// <summary>A nullable bigint parameter.</summary>
    public static NpgsqlCommand WithInt64(this NpgsqlCommand command, string name, long? value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlTypes.NpgsqlDbType.Bigint) { Value = (object?)value ?? DBNull.Value });
        return command;
    }

    public static string? GetNullableString(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? GetNullableInt64(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static async Task<IReadOnlyList<string>> ReadStringsAsync(this NpgsqlCommand command, CancellationToken ct)
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
