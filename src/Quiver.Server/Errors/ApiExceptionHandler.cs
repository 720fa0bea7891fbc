using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Quiver.Core.Errors;

namespace Quiver.Server.Errors;

/// <summary>
/// Maps every exception to the OpenAI envelope. Client errors keep their message; anything
/// unexpected becomes a 500 whose body says nothing about the internals (the log has them).
/// </summary>
internal sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
            return true;
        }

        var error = Translate(exception);
        if (error.Status >= 500)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        await ErrorResponses.WriteAsync(httpContext, error);
        return true;
    }

    internal static HttpError Translate(Exception exception) => exception switch
    {
        ApiException api => HttpError.From(api),
        BadHttpRequestException { StatusCode: 413 } => HttpError.From(ApiErrors.PayloadTooLarge("The request body is too large for this route.")),
        BadHttpRequestException bad when FindJsonException(bad) is { } json => HttpError.From(ApiErrors.BadRequest(
            $"We could not parse the JSON body of your request{(json.Path is { Length: > 1 } path ? $" at '{path}'" : "")}. Send valid JSON with the documented field types.",
            code: "invalid_json")),
        BadHttpRequestException bad when bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase) => HttpError.From(ApiErrors.BadRequest(
            "The request body is missing or is not JSON. Send a JSON object with Content-Type: application/json.", code: "invalid_json")),
        BadHttpRequestException bad => new HttpError(bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : 400,
            ErrorTypes.InvalidRequest, "invalid_request", null, "The request could not be read. Check its headers and body."),
        _ => HttpError.Server(),
    };

    private static JsonException? FindJsonException(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            if (e is JsonException json)
            {
                return json;
            }
        }

        return null;
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
