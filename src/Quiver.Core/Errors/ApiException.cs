namespace Quiver.Core.Errors;

/// <summary>
/// The one exception type that becomes an error response. Everything a client can cause is thrown
/// as an <see cref="ApiException"/> (usually through <see cref="ApiErrors"/>); anything else is a
/// bug and is answered with a generic 500 that never carries the exception's text.
/// </summary>
public sealed class ApiException(int status, string type, string? code, string? param, string message)
    : Exception(message)
{
    /// <summary>HTTP status code.</summary>
    public int Status { get; } = status;

    /// <summary>OpenAI error <c>type</c>: <c>invalid_request_error</c>, <c>authentication_error</c>, …</summary>
    public string Type { get; } = type;

    /// <summary>Machine-readable error <c>code</c>, or null.</summary>
    public string? Code { get; } = code;

    /// <summary>The request parameter at fault, or null.</summary>
    public string? Param { get; } = param;

    /// <summary>Seconds to send in <c>Retry-After</c> (429/503 only).</summary>
    public int? RetryAfterSeconds { get; init; }
}
