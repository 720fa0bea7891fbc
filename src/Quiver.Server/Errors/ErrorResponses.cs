using System.Text.Json;
using Quiver.Core.Errors;
using Quiver.Server.Contracts;
using Quiver.Server.Json;

namespace Quiver.Server.Errors;

/// <summary>The single writer of error bodies: every failure leaves the server through here.</summary>
internal static class ErrorResponses
{
    public static Task WriteAsync(HttpContext context, ApiException error) => WriteAsync(context, HttpError.From(error));

    public static async Task WriteAsync(HttpContext context, HttpError error)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.Clear();
        response.StatusCode = error.Status;
        if (error.Status is >= 400 and < 500 and not 409 and not 429)
        {
            // Official SDKs retry unless told not to; a deterministic 4xx will not change on retry.
            response.Headers["x-should-retry"] = "false";
        }

        if (error.RetryAfterSeconds is int seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        response.ContentType = "application/json";
        var envelope = new ErrorEnvelope(new ErrorBody(error.Message, error.Type, error.Param, error.Code));
        await JsonSerializer.SerializeAsync(response.Body, envelope, ApiJsonContext.Wire.ErrorEnvelope, context.RequestAborted);
    }

    /// <summary>The body for a status the framework produced without one (unknown route, wrong method).</summary>
    public static HttpError ForBareStatus(HttpContext context)
    {
        var request = context.Request;
        var status = context.Response.StatusCode;
        var route = $"{request.Method} {request.Path}";
        return status switch
        {
            404 => HttpError.From(ApiErrors.NotFound($"Unknown request URL: {ApiErrors.Truncate(route, 200)}. Check the URL for typos; API routes live under /v1 and /api/v1/llm.", code: "unknown_url")),
            405 => new HttpError(405, ErrorTypes.InvalidRequest, "method_not_allowed", null,
                $"Method {request.Method} is not allowed for {ApiErrors.Truncate(request.Path.Value ?? "", 200)}. Check the API reference at /docs."),
            413 => HttpError.From(ApiErrors.PayloadTooLarge("The request body is too large.")),
            415 => HttpError.From(HttpErrors.UnsupportedMediaType("Unsupported Content-Type for this route.")),
            >= 500 => HttpError.Server(status),
            _ => new HttpError(status, ErrorTypes.InvalidRequest, null, null, $"The request failed with HTTP status {status}."),
        };
    }
}
