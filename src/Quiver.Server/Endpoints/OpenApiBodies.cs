using Microsoft.AspNetCore.Http.Metadata;

namespace Quiver.Server.Endpoints;

/// <summary>Request bodies in the OpenAPI document.</summary>
internal static class OpenApiBodies
{
    /// <summary>
    /// Documents <typeparamref name="T"/> as the route's JSON request body (the document assumes
    /// <c>application/json</c>) without restricting the request's Content-Type. <c>Accepts&lt;T&gt;("application/json")</c>
    /// would do both: routing answers 415 to any other media type once a route declares one. The admin, token and
    /// authorization routes have always read a JSON body whatever Content-Type came with it, so they keep doing so.
    /// </summary>
    public static RouteHandlerBuilder DocumentsJsonBody<T>(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new AcceptsMetadata([], typeof(T)));
}
