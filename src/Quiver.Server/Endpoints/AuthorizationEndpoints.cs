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
/// here and by the body records in <c>Contracts/AuthorizationContracts.cs</c>; who may do what is decided
/// by <see cref="AuthorizationService"/>.
/// </summary>
internal static class AuthorizationEndpoints
{
    public const string Prefix = "/api/v1/authorization/llm";

    public static IEndpointRouteBuilder MapAuthorization(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix).WithTags("Authorization");
        group.MapPost("/grant", GrantAsync).WithName("grantRole").DocumentsJsonBody<RoleAssignmentRequest>();
        group.MapPost("/revoke", RevokeAsync).WithName("revokeRole").DocumentsJsonBody<RoleAssignmentRequest>();
        group.MapGet("/check", CheckAsync).WithName("checkRole");
        group.MapGet("/list", ListAsync).WithName("listResources");
        group.MapPost("/create", CreateAsync).WithName("createResource").DocumentsJsonBody<CreateResourceRequest>();
        group.MapDelete("/delete", DeleteAsync).WithName("deleteResource").DocumentsJsonBody<DeleteResourceRequest>();
        return app;
    }

    private static async Task<NoContent> GrantAsync(RequestContext rc, HttpRequest request, AuthorizationService service, CancellationToken ct)
    {
        var (type, id, user, role) = RoleAssignmentRequest.Parse(await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct));
        await service.GrantAsync(rc.Principal, type, id, user, role, ct);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> RevokeAsync(RequestContext rc, HttpRequest request, AuthorizationService service, CancellationToken ct)
    {
        var (type, id, user, role) = RoleAssignmentRequest.Parse(await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct));
        await service.RevokeAsync(rc.Principal, type, id, user, role, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<AuthorizationCheckResponse>> CheckAsync(
        RequestContext rc, [FromQuery] string? resourceType, [FromQuery] string? resourceId, [FromQuery] string? role,
        AuthorizationService service, CancellationToken ct)
    {
        var type = ResourceTypes.Require(Required(resourceType, "resourceType"), "resourceType");
        var id = AuthorizationFields.ResourceId(Required(resourceId, "resourceId"));
        var needed = AuthorizationFields.Role(Required(role, "role"));
        return TypedResults.Ok(new AuthorizationCheckResponse(await service.CheckAsync(rc.Principal, type, id, needed, ct)));
    }

    /// <summary><c>role</c> is the least role listed (default <c>reader</c>: every role); <c>limit</c> (1–100, default 100) is a Quiver extension.</summary>
    private static async Task<Ok<AuthorizationListResponse>> ListAsync(
        RequestContext rc, [FromQuery] string? resourceType, [FromQuery] string? role, [FromQuery] string? continuationToken,
        [FromQuery] string? limit, AuthorizationService service, CancellationToken ct)
    {
        var type = ResourceTypes.Require(Required(resourceType, "resourceType"), "resourceType");
        var least = string.IsNullOrEmpty(role) ? ResourceRole.Reader : AuthorizationFields.Role(role);
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
        var (type, id, overwrite) = CreateResourceRequest.Parse(await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct));
        await service.CreateAsync(rc.Principal, type, id, overwrite, ct);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> DeleteAsync(RequestContext rc, HttpRequest request, AuthorizationService service, CancellationToken ct)
    {
        var (type, id) = DeleteResourceRequest.Parse(await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct));
        await service.DeleteAsync(rc.Principal, type, id, ct);
        return TypedResults.NoContent();
    }

    private static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value)
            ? throw ApiErrors.BadRequest($"Missing required parameter: '{name}'.", name, "missing_required_parameter")
            : value;
}
