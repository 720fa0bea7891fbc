using System.Security.Cryptography;
using System.Text;
using Quiver.Core.Errors;
using Quiver.Core.Keys;
using Quiver.Core.Tenancy;
using Quiver.Server.Errors;

namespace Quiver.Server.Auth;

/// <summary>
/// Authenticates API routes (<c>/v1/…</c>, <c>/api/v1/…</c>) with a Bearer key and resolves the
/// principal (D4): the key's project plus the validated <c>X-On-Behalf-Of</c> user. Health and
/// documentation routes pass through without a key.
/// </summary>
internal sealed class ApiKeyAuthenticationMiddleware(RequestDelegate next, IApiKeyStore keys, IConfiguration configuration)
{
    /// <summary>Project of the key given by <c>QUIVER_API_KEY</c> and of the first-start admin key.</summary>
    public const string DefaultProject = "default";

    private readonly byte[]? _environmentKeyHash = configuration["QUIVER_API_KEY"] is { Length: > 0 } key
        ? SHA256.HashData(Encoding.UTF8.GetBytes(key))
        : null;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsApiPath(context.Request.Path))
        {
            await next(context);
            return;
        }

        var error = await AuthenticateAsync(context);
        if (error is not null)
        {
            await ErrorResponses.WriteAsync(context, error);
            return;
        }

        await next(context);
    }

    private async Task<ApiException?> AuthenticateAsync(HttpContext context)
    {
        string header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= "Bearer ".Length)
        {
            return ApiErrors.MissingApiKey();
        }

        var secret = header["Bearer ".Length..].Trim();
        string project;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        if (_environmentKeyHash is not null && CryptographicOperations.FixedTimeEquals(hash, _environmentKeyHash))
        {
            project = DefaultProject;
        }
        else
        {
            var key = await keys.FindActiveByHashAsync(Convert.ToHexStringLower(hash), context.RequestAborted);
            if (key is null)
            {
                return ApiErrors.InvalidApiKey();
            }

            project = key.Project;
        }

        var user = "";
        if (context.Request.Headers.TryGetValue("X-On-Behalf-Of", out var onBehalfOf))
        {
            if (onBehalfOf.Count != 1 || onBehalfOf[0] is not { } value || !Principal.IsValidUser(value))
            {
                return ApiErrors.InvalidOnBehalfOf();
            }

            user = value;
        }

        context.Items[RequestContext.PrincipalKey] = new Principal(project, user);
        return null;
    }

    private static bool IsApiPath(PathString path) =>
        path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/api/v1", StringComparison.OrdinalIgnoreCase);
}
