namespace Quiver.Server.Errors;

/// <summary>The OpenAI error <c>type</c> values Quiver emits (DECISIONS D3).</summary>
internal static class ErrorTypes
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Permission = "permission_error";
    public const string RateLimit = "rate_limit_error";
    public const string Server = "server_error";
}
