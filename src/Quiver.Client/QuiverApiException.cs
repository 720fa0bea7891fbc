using System.Net;

namespace Quiver.Client;

/// <summary>
/// A non-success answer from the server, carrying the fields of the error envelope
/// <c>{"error":{"message","type","param","code"}}</c>. Bodies that are not the envelope
/// (a gateway's plain text, <c>{"error":"…"}</c>) still produce this exception.
/// </summary>
public sealed class QuiverApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QuiverApiException(HttpStatusCode status, string message, string? type, string? code, string? param, string? responseBody)
        : base(message)
    {
        Status = status;
        Type = type;
        Code = code;
        Param = param;
        ResponseBody = responseBody;
    }

    /// <summary>HTTP status of the answer.</summary>
    public HttpStatusCode Status { get; }

    /// <summary><c>error.type</c>, e.g. <c>invalid_request_error</c>; null when the body had none.</summary>
    public string? Type { get; }

    /// <summary><c>error.code</c>, e.g. <c>unknown_url</c>; may be null.</summary>
    public string? Code { get; }

    /// <summary><c>error.param</c>: the offending parameter, e.g. <c>vector_store_id</c>; may be null.</summary>
    public string? Param { get; }

    /// <summary>The raw response body (possibly truncated), for diagnostics.</summary>
    public string? ResponseBody { get; }

    /// <summary><c>Retry-After</c> of a 429 or 503, when sent.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
