using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Quiver.Core.Access;
using Quiver.Core.Errors;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;

namespace Quiver.Server.Endpoints;

/// <summary>
/// The authorization API (MKA1 §1.3) for files and vector stores: grant, revoke, check, list,
/// create, delete. Bodies and query names are camelCase as MKA1 has them. Shapes are checked
/// here; who may do what is decided by <see cref="AuthorizationService"/>.
/// </summary>
internal static class AuthorizationEndpoints
{
    public const string Prefix = "/api/v1/authorization/llm";

    public static IEndpointRouteBuilder MapAuthorization(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix).WithTags("Authorization");
        group.MapPost("/grant", GrantAsync).WithName("grantRole");
        group.MapPost("/revoke", RevokeAsync).WithName("revokeRole");
        group.MapGet("/check", CheckAsync).WithName("checkRole");
        group.MapGet("/list", ListAsync).WithName("listResources");
        group.MapPost("/create", CreateAsync).WithName("createResource");
        group.MapDelete("/delete", DeleteAsync).WithName("deleteResource");
        return app;
    }

    private static async Task<NoContent> GrantAsync(RequestContext rc, HttpRequest request, AuthorizationService service, CancellationToken ct)
    {
        var (type, id, user, role) = await ReadRelationshipAsync(request, ct);
        await service.GrantAsync(rc.Principal, type, id, user, role, ct);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> RevokeAsync(RequestContext rc, HttpRequest request, AuthorizationService service, CancellationToken ct)
    {
        var (type, id, user, role) = await ReadRelationshipAsync(request, ct);
        await service.RevokeAsync(rc.Principal, type, id, user, role, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<AuthorizationCheckResponse>> CheckAsync(
        RequestContext rc, [FromQuery] string? resourceType, [FromQuery] string? resourceId, [FromQuery] string? role,
        AuthorizationService service, CancellationToken ct)
    {
        var type = ResourceTypes.Require(Required(resourceType, "resourceType"), "resourceType");
        var id = ResourceId(Required(resourceId, "resourceId"));
        var needed = Role(Required(role, "role"));
        return TypedResults.Ok(new AuthorizationCheckResponse(await service.CheckAsync(rc.Principal, type, id, needed, ct)));
    }

    /// <summary><c>role</c> is the least role listed (default <c>reader</c>: every role); <c>limit</c> (1–100, default 100) is a Quiver extension.</summary>
    private static async Task<Ok<AuthorizationListResponse>> ListAsync(
        RequestContext rc, [FromQuery] string? resourceType, [FromQuery] string? role, [FromQuery] string? continuationToken,
        [FromQuery] string? limit, AuthorizationService service, CancellationToken ct)
    {
        var type = ResourceTypes.Require(Required(resourceType, "resourceType"), "resourceType");
        var least = string.IsNullOrEmpty(role) ? ResourceRole.Reader : Role(role);
        var size = AuthorizationService.DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, null, out size) || size is < 1 or > AuthorizationService.MaxPageSize))
        {
            throw ApiErrors.BadRequest(
                $"Invalid 'limit': '{ApiErrors.Truncate(limit)}'. Expected an integer from 1 to {AuthorizationService.MaxPageSize}.", "limit", "invalid_value");
        }

        var token = string.IsNullOrEmpty(continuationToken) ? null : continuationToken;
        var page = await service.ListAsync(rc.Principal, type, least, token, size, ct);
        return TypedResults.Ok(new AuthorizationListResponse(page.Resources, page.ContinuationToken));
    }

    private static async Task<NoContent> CreateAsync(RequestContext rc, HttpRequest request, AuthorizationService service, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct);
        var (type, id) = Resource(body);
        var overwrite = body.OptionalBool("overwrite") ?? false;
        await service.CreateAsync(rc.Principal, type, id, overwrite, ct);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> DeleteAsync(RequestContext rc, HttpRequest request, AuthorizationService service, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct);
        var (type, id) = Resource(body);
        await service.DeleteAsync(rc.Principal, type, id, ct);
        return TypedResults.NoContent();
    }

    private static async Task<(string Type, string Id, string User, ResourceRole Role)> ReadRelationshipAsync(HttpRequest request, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct);
        var (type, id) = Resource(body);
        var user = body.RequiredString("userId", AuthorizationService.MaxUserIdLength);
        if (!AuthorizationService.IsValidName(user))
        {
            throw ApiErrors.BadRequest(
                $"Invalid 'userId': '{ApiErrors.Truncate(user)}'. Expected '*' (public) or letters, digits, '_' and '-'.", "userId", "invalid_value");
        }

        var role = Role(body.RequiredString("role", 16));
        return (type, id, user, role);
    }

    private static (string Type, string Id) Resource(JsonElement body)
    {
        var type = ResourceTypes.Require(body.RequiredString("resourceType", 64), "resourceType");
        return (type, ResourceId(body.RequiredString("resourceId", AuthorizationService.MaxResourceIdLength)));
    }

    private static string ResourceId(string id)
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

    private static ResourceRole Role(string value) =>
        ResourceRoles.TryParse(value, out var role)
            ? role
            : throw ApiErrors.BadRequest(
                $"Invalid 'role': '{ApiErrors.Truncate(value)}'. Expected 'owner', 'writer' or 'reader'.", "role", "invalid_value");

    private static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value)
            ? throw ApiErrors.BadRequest($"Missing required parameter: '{name}'.", name, "missing_required_parameter")
            : value;
}
