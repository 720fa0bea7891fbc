namespace Quiver.Core.Errors;

/// <summary>
/// The one exception type that becomes an error response. Everything a client can cause is thrown
/// as an <see cref="ApiException"/> (usually through <see cref="ApiErrors"/>) with the
/// <see cref="ErrorKind"/> of the failure; the server maps the kind to a status code. Anything
/// else is a bug and is answered with a generic server error that never carries the exception's text.
/// </summary>
public sealed class ApiException(ErrorKind kind, string? code, string? param, string message)
    : Exception(message)
{
    /// <summary>What kind of failure this is.</summary>
    public ErrorKind Kind { get; } = kind;

    /// <summary>Machine-readable error <c>code</c>, or null.</summary>
    public string? Code { get; } = code;

    /// <summary>The request parameter at fault, or null.</summary>
    public string? Param { get; } = param;

    /// <summary>Seconds after which a retry may succeed (rate limits), or null.</summary>
    public int? RetryAfterSeconds { get; init; }
}
