using System.Text.Json;
using System.Text.Json.Serialization;
using Quiver.Core.Access;
using Quiver.Core.Errors;
using Quiver.Server.Endpoints;

namespace Quiver.Server.Contracts;

/// <summary>Answer of <c>GET /api/v1/authorization/llm/check</c> (MKA1 §1.3).</summary>
public sealed record AuthorizationCheckResponse(bool Allowed);

/// <summary>
/// Answer of <c>GET /api/v1/authorization/llm/list</c> (MKA1 §1.3, camelCase): resource ids and
/// the token of the next page, null on the last page.
/// </summary>
public sealed record AuthorizationListResponse(
    IReadOnlyList<string> Resources,
    [property: JsonPropertyName("continuationToken")] string? ContinuationToken);

// Request bodies (camelCase, as MKA1 has them), in the style of VectorStoreRequests.cs: each record documents
// what is accepted (the OpenAPI document) and owns its one parser. Shapes are checked here; who may do what is
// decided by AuthorizationService.

/// <summary>Body of <c>POST /api/v1/authorization/llm/grant</c> and <c>/revoke</c>: a role of a user on a resource.</summary>
/// <param name="ResourceType"><c>file</c> or <c>vector_store</c>.</param>
/// <param name="ResourceId">One file or vector store id (not <c>*</c>).</param>
/// <param name="UserId">The user, or <c>*</c> for everyone (public).</param>
/// <param name="Role"><c>owner</c>, <c>writer</c> or <c>reader</c>.</param>
public sealed record RoleAssignmentRequest(
    [property: JsonPropertyName("resourceType")] string ResourceType,
    [property: JsonPropertyName("resourceId")] string ResourceId,
    [property: JsonPropertyName("userId")] string UserId,
    [property: JsonPropertyName("role")] string Role)
{
    /// <summary>The validated relationship; <paramref name="Type"/> is the canonical resource type.</summary>
    internal sealed record Parsed(string Type, string Id, string User, ResourceRole Role);

    internal static Parsed Parse(JsonElement body)
    {
        var (type, id) = AuthorizationFields.Resource(body);
        var user = body.RequiredString("userId", AuthorizationService.MaxUserIdLength);
        if (!AuthorizationService.IsValidName(user))
        {
            throw ApiErrors.BadRequest(
                $"Invalid 'userId': '{ApiErrors.Truncate(user)}'. Expected '*' (public) or letters, digits, '_' and '-'.", "userId", "invalid_value");
        }

        var role = AuthorizationFields.Role(body.RequiredString("role", 16));
        return new Parsed(type, id, user, role);
    }
}

/// <summary>Body of <c>POST /api/v1/authorization/llm/create</c>: confirms the caller as owner of an existing resource.</summary>
/// <param name="ResourceType"><c>file</c> or <c>vector_store</c>.</param>
/// <param name="ResourceId">One file or vector store id (not <c>*</c>).</param>
/// <param name="Overwrite">Drop every grant so that only the caller's ownership remains (default false).</param>
public sealed record CreateResourceRequest(
    [property: JsonPropertyName("resourceType")] string ResourceType,
    [property: JsonPropertyName("resourceId")] string ResourceId,
    [property: JsonPropertyName("overwrite")] bool? Overwrite)
{
    internal sealed record Parsed(string Type, string Id, bool Overwrite);

    internal static Parsed Parse(JsonElement body)
    {
        var (type, id) = AuthorizationFields.Resource(body);
        return new Parsed(type, id, body.OptionalBool("overwrite") ?? false);
    }
}

/// <summary>Body of <c>DELETE /api/v1/authorization/llm/delete</c>: removes every grant on the resource (the resource itself stays).</summary>
/// <param name="ResourceType"><c>file</c> or <c>vector_store</c>.</param>
/// <param name="ResourceId">One file or vector store id (not <c>*</c>).</param>
public sealed record DeleteResourceRequest(
    [property: JsonPropertyName("resourceType")] string ResourceType,
    [property: JsonPropertyName("resourceId")] string ResourceId)
{
    internal static (string Type, string Id) Parse(JsonElement body) => AuthorizationFields.Resource(body);
}

/// <summary>The fields the authorization bodies and query strings share, with their exact errors.</summary>
internal static class AuthorizationFields
{
    /// <summary><c>resourceType</c> then <c>resourceId</c> of a body.</summary>
    public static (string Type, string Id) Resource(JsonElement body)
    {
        var type = ResourceTypes.Require(body.RequiredString("resourceType", 64), "resourceType");
        return (type, ResourceId(body.RequiredString("resourceId", AuthorizationService.MaxResourceIdLength)));
    }

    public static string ResourceId(string id)
    {
        if (id.Length > AuthorizationService.MaxResourceIdLength)
        {
            throw ApiErrors.BadRequest(
                $"Invalid 'resourceId': string too long. Expected at most {AuthorizationService.MaxResourceIdLength} characters, got {id.Length}.",
                "resourceId", "string_above_max_length");
        }

        if (id == AuthorizationService.PublicUser)
        {
            throw ApiErrors.BadRequest("Invalid 'resourceId': '*' is not supported here; name one file or vector store.", "resourceId", "invalid_value");
        }

        return AuthorizationService.IsValidName(id)
            ? id
            : throw ApiErrors.BadRequest(
                $"Invalid 'resourceId': '{ApiErrors.Truncate(id)}'. Expected letters, digits, '_' and '-'.", "resourceId", "invalid_value");
    }

    public static ResourceRole Role(string value) =>
        ResourceRoles.TryParse(value, out var role)
            ? role
            : throw ApiErrors.BadRequest(
                $"Invalid 'role': '{ApiErrors.Truncate(value)}'. Expected 'owner', 'writer' or 'reader'.", "role", "invalid_value");
}
