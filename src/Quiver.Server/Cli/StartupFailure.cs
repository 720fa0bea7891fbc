using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using Quiver.Core.Errors;

namespace Quiver.Server.Cli;

/// <summary>
/// Turns an exception that stopped a verb from starting into one plain line for an operator (what failed
/// and what to do), printed to stderr with exit code 1. No stack trace: the cause is a setting or the
/// environment, not a bug the operator could act on from a trace.
/// </summary>
internal static class StartupFailure
{
    public static int Report(Exception exception)
    {
        Console.Error.WriteLine($"quiver: {Describe(exception)}");
        return QuiverCli.ExitFailure;
    }

    public static string Describe(Exception exception)
    {
        var chain = Chain(exception).ToList();
        if (chain.Any(e => e is AddressInUseException))
        {
            // Kestrel's outer IOException names the address: "Failed to bind to address http://127.0.0.1:8080: address already in use."
            var bind = chain.FirstOrDefault(e => e is IOException && e.Message.StartsWith("Failed to bind", StringComparison.Ordinal));
            return $"{(bind ?? chain.First(e => e is AddressInUseException)).Message.TrimEnd('.')}. Another process listens there; choose another address with --urls.";
        }

        foreach (var e in chain)
        {
            switch (e)
            {
                case OptionsValidationException invalid:
                    return $"invalid configuration: {string.Join(" ", invalid.Failures)}";
                case PostgresException { SqlState: "0A000" or "58P01" } missing when missing.MessageText.Contains("vector", StringComparison.Ordinal):
                    return "the PostgreSQL server lacks the pgvector extension ('vector'): install it (e.g. apt-get install postgresql-17-pgvector) "
                        + "or point ConnectionStrings:Quiver at a server that has it.";
                case PostgresException { SqlState: "42501" } denied when denied.MessageText.Contains("extension", StringComparison.Ordinal):
                    return $"PostgreSQL refused to create the 'vector' extension ({denied.MessageText}): run CREATE EXTENSION vector once as a superuser.";
                case PostgresException refused:
                    return $"PostgreSQL refused the connection or the schema migration: {refused.MessageText} (SQLSTATE {refused.SqlState}).";
                case NpgsqlException unreachable:
                    var reason = unreachable.InnerException is SocketException or IOException or TimeoutException ? $" ({unreachable.InnerException.Message})" : "";
                    return $"PostgreSQL is unreachable: {unreachable.Message.TrimEnd('.')}{reason}. Check ConnectionStrings:Quiver and that the server runs.";
                case SqliteException sqlite:
                    return $"the SQLite database cannot be used: {sqlite.Message.TrimEnd('.')} (is the data directory writable? --data-dir / QUIVER_DATA_DIR).";
                case UnauthorizedAccessException or IOException:
                    return $"file system error: {e.Message.TrimEnd('.')} (is the data directory writable? --data-dir / QUIVER_DATA_DIR).";
                case ApiException invalidValue:
                    return invalidValue.Message;
            }
        }

        // Configuration errors thrown while services are composed (unknown provider, bad connection string,
        // unconvertible values) carry a complete sentence already.
        return exception is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[0].Message : exception.Message;
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }

                yield break;
            }

            yield return e;
        }
    }
}
