namespace Quiver.Core.Errors;

/// <summary>The catalogue of client-facing errors. Messages say what went wrong and what to do.</summary>
public static class ApiErrors
{
    public static ApiException BadRequest(string message, string? param = null, string? code = null) =>
        new(ErrorKind.InvalidRequest, code, param, message);

    public static ApiException NotFound(string message, string? param = null, string? code = null) =>
        new(ErrorKind.NotFound, code, param, message);

    public static ApiException Conflict(string message, string? param = null, string? code = null) =>
        new(ErrorKind.Conflict, code, param, message);

    public static ApiException InvalidApiKey() => new(ErrorKind.Unauthenticated, "invalid_api_key", null,
        "Incorrect API key provided. Create a key with `quiver keys create --name NAME` or use the admin key printed at first start.");

    public static ApiException InvalidId(string param, string expectedPrefix, string value) => BadRequest(
        $"Invalid '{param}': '{Truncate(value)}'. Expected an ID that begins with '{expectedPrefix}' followed by letters and digits.",
        param, "invalid_id");

    public static ApiException FileNotFound(string fileId, string param = "file_id") =>
        NotFound($"No file found with id '{fileId}'.", param);

    public static ApiException PayloadTooLarge(string message, string? param = null) =>
        new(ErrorKind.TooLarge, "payload_too_large", param, message);

    /// <summary>The caller can see the object but lacks the role the operation needs.</summary>
    public static ApiException PermissionDenied(string message, string? param = null, string? code = null) =>
        new(ErrorKind.PermissionDenied, code, param, message);

    /// <summary>The caller is over a rate limit; a retry after <paramref name="retryAfterSeconds"/> may succeed.</summary>
    public static ApiException RateLimited(string message, int retryAfterSeconds, string? code = "rate_limit_exceeded") =>
        new(ErrorKind.RateLimited, code, null, message) { RetryAfterSeconds = retryAfterSeconds };

    /// <summary>Cuts a client-supplied value short before it is echoed in a message.</summary>
    public static string Truncate(string value, int max = 80) =>
        value.Length <= max ? value : string.Concat(value.AsSpan(0, max), "…");
}
