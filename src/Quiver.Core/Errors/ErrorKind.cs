namespace Quiver.Core.Errors;

/// <summary>
/// What went wrong, in the domain's words. Core says which kind of failure a request met; the
/// server alone decides how each kind is answered on the wire (status code, OpenAI error type).
/// </summary>
public enum ErrorKind
{
    /// <summary>The request is malformed or names a value that is not allowed.</summary>
    InvalidRequest,

    /// <summary>The object does not exist, or the caller may not know that it does.</summary>
    NotFound,

    /// <summary>The object's current state forbids the operation (e.g. a store being deleted).</summary>
    Conflict,

    /// <summary>The request or an upload exceeds a size limit.</summary>
    TooLarge,

    /// <summary>The content type of the request or upload is not accepted.</summary>
    UnsupportedMediaType,

    /// <summary>No credential, or one that names no caller.</summary>
    Unauthenticated,

    /// <summary>The caller is known and may see the object, but lacks the role the operation needs.</summary>
    PermissionDenied,

    /// <summary>The caller is over a rate limit; <see cref="ApiException.RetryAfterSeconds"/> says when to retry.</summary>
    RateLimited,

    /// <summary>A failure of the service itself, never caused by the request.</summary>
    Internal,
}
