using Quiver.Core.Errors;

namespace Quiver.Server.Errors;

/// <summary>
/// Errors only the HTTP layer can meet: a missing Authorization header, a malformed <c>X-On-Behalf-Of</c>
/// header, a request body of the wrong content type. Core's catalogue (<see cref="ApiErrors"/>) speaks of the
/// domain; these name headers and media types, so they live beside the endpoints that read them.
/// </summary>
internal static class HttpErrors
{
    public static ApiException MissingApiKey() => new(ErrorKind.Unauthenticated, null, null,
        "You didn't provide an API key. Provide your API key in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY).");

    public static ApiException InvalidOnBehalfOf() => new(ErrorKind.InvalidRequest, "invalid_on_behalf_of", "X-On-Behalf-Of",
        "The X-On-Behalf-Of header must be 1 to 150 printable ASCII characters and must not be '*'.");

    public static ApiException UnsupportedMediaType(string message) =>
        new(ErrorKind.UnsupportedMediaType, "unsupported_media_type", null, message);
}
