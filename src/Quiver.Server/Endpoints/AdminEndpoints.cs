using Microsoft.AspNetCore.Http.HttpResults;
using Quiver.Core.Errors;
using Quiver.Core.Ids;
using Quiver.Core.Keys;
using Quiver.Core.Tenancy;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;

namespace Quiver.Server.Endpoints;

/// <summary>
/// Key administration for admin API keys (docs/authentication.md): create, list, retrieve and
/// revoke API keys, list the token-signing key ring and rotate it. Any other caller gets 403.
/// </summary>
internal static class AdminEndpoints
{
    public const string Prefix = "/api/v1/admin";
    public const int MaxNameLength = 100;

    public static RouteGroupBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup(Prefix).WithTags("Administration")
            .AddEndpointFilter(async (context, next) =>
            {
                AuthenticatedCaller.Of(context.HttpContext).RequireAdmin();
                return await next(context);
            });
        admin.MapPost("/keys", CreateKeyAsync).WithName("adminCreateKey").DocumentsJsonBody<CreateApiKeyRequest>();
        admin.MapGet("/keys", ListKeysAsync).WithName("adminListKeys");
        admin.MapGet("/keys/{key_id}", RetrieveKeyAsync).WithName("adminRetrieveKey");
        admin.MapPost("/keys/{key_id}", UpdateKeyAsync).WithName("adminUpdateKey").DocumentsJsonBody<UpdateApiKeyRequest>();
        admin.MapDelete("/keys/{key_id}", RevokeKeyAsync).WithName("adminRevokeKey");
        admin.MapGet("/signing_keys", ListSigningKeysAsync).WithName("adminListSigningKeys");
        admin.MapPost("/signing_keys/rotate", RotateSigningKeysAsync).WithName("adminRotateSigningKeys");
        return admin;
    }

    private static async Task<Ok<ApiKeyObject>> CreateKeyAsync(HttpRequest request, IApiKeyStore keys, CancellationToken ct)
    {
        var newKey = CreateApiKeyRequest.Parse(await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct));
        var (key, secret) = await keys.CreateAsync(newKey, ct);
        return TypedResults.Ok(ApiKeyObject.From(key, secret));
    }

    private static async Task<Ok<ListResponse<ApiKeyObject>>> ListKeysAsync(IApiKeyStore keys, string? project, CancellationToken ct)
    {
        var all = (await keys.ListAsync(ct)).Where(k => project is null || k.Project == project).Select(k => ApiKeyObject.From(k)).ToList();
        return TypedResults.Ok(new ListResponse<ApiKeyObject>("list", all, all.FirstOrDefault()?.Id, all.LastOrDefault()?.Id, false));
    }

    private static async Task<Ok<ApiKeyObject>> RetrieveKeyAsync(string key_id, IApiKeyStore keys, CancellationToken ct) =>
        await keys.FindByIdAsync(KeyId(key_id), ct) is { } key ? TypedResults.Ok(ApiKeyObject.From(key)) : throw KeyNotFound(key_id);

    /// <summary>Changes an active key's <c>rate_limit</c> (<c>null</c> or <c>""</c> removes it) and/or <c>permissions</c>; absent fields stay as they are.</summary>
    private static async Task<Ok<ApiKeyObject>> UpdateKeyAsync(string key_id, HttpRequest request, IApiKeyStore keys, CancellationToken ct)
    {
        var id = KeyId(key_id);
        var (limit, permissions) = UpdateApiKeyRequest.Parse(await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct));
        return await keys.UpdateAsync(id, limit, permissions, ct) is { } key ? TypedResults.Ok(ApiKeyObject.From(key)) : throw KeyNotFound(key_id);
    }

    private static async Task<Ok<ApiKeyDeleted>> RevokeKeyAsync(string key_id, IApiKeyStore keys, CancellationToken ct) =>
        await keys.RevokeAsync(KeyId(key_id), ct) ? TypedResults.Ok(new ApiKeyDeleted(key_id, "api_key.deleted", true)) : throw KeyNotFound(key_id);

    private static async Task<Ok<SimpleList<SigningKeyObject>>> ListSigningKeysAsync(SigningKeyRing ring, CancellationToken ct) =>
        TypedResults.Ok(new SimpleList<SigningKeyObject>("list", [.. (await ring.ListAsync(ct)).Select(SigningKeyObject.From)]));

    private static async Task<Ok<SigningKeyObject>> RotateSigningKeysAsync(SigningKeyRing ring, CancellationToken ct) =>
        TypedResults.Ok(SigningKeyObject.From(await ring.RotateAsync(ct)));

    private static string KeyId(string value) => IdValidator.Require(value, IdPrefixes.ApiKey, "key_id");

    private static ApiException KeyNotFound(string id) =>
        ApiErrors.NotFound($"No active API key with id '{ApiErrors.Truncate(id)}'. GET {Prefix}/keys lists them.", "key_id");

    /// <summary>Whether a key name or project is acceptable: printable ASCII (the rule the <c>keys</c> command shares).</summary>
    internal static bool IsPrintable(string value) => Principal.IsValidUser(value) || value == "*";
}
