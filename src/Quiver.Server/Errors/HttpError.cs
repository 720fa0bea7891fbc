using Quiver.Core.Errors;

namespace Quiver.Server.Errors;

/// <summary>
/// An error as it goes on the wire: status code, OpenAI error type, code, param and message.
/// The one place where a domain <see cref="ErrorKind"/> becomes a status code.
/// </summary>
internal sealed record HttpError(int Status, string Type, string? Code, string? Param, string Message, int? RetryAfterSeconds = null)
{
    public static HttpError From(ApiException error)
    {
        var (status, type) = error.Kind switch
        {
            ErrorKind.InvalidRequest => (400, ErrorTypes.InvalidRequest),
            ErrorKind.Unauthenticated => (401, ErrorTypes.Authentication),
            ErrorKind.PermissionDenied => (403, ErrorTypes.Permission),
            ErrorKind.NotFound => (404, ErrorTypes.InvalidRequest),
            ErrorKind.Conflict => (409, ErrorTypes.InvalidRequest),
            ErrorKind.TooLarge => (413, ErrorTypes.InvalidRequest),
            ErrorKind.UnsupportedMediaType => (415, ErrorTypes.InvalidRequest),
            ErrorKind.RateLimited => (429, ErrorTypes.RateLimit),
            _ => (500, ErrorTypes.Server),
        };
        return new HttpError(status, type, error.Code, error.Param, error.Message, error.RetryAfterSeconds);
    }

    /// <summary>The answer to a failure that is the server's own: says nothing about the internals.</summary>
    public static HttpError Server(int status = 500) => new(status, ErrorTypes.Server, null, null,
        "The server had an error while processing your request. Retry, and contact the operator if it persists.");
}
