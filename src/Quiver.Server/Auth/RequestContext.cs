using System.Reflection;
using Quiver.Core.Tenancy;
using Quiver.Server.Errors;
using Quiver.Server.Hosting;

namespace Quiver.Server.Auth;

/// <summary>
/// What every API handler needs to know about the caller: the authenticated principal and the
/// dialect of the route. Bound from the request by minimal APIs (see <see cref="BindAsync"/>).
/// </summary>
public sealed record RequestContext(Principal Principal, Dialect Dialect)
{
    internal static readonly object PrincipalKey = new();

    public static ValueTask<RequestContext?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        if (context.Items[PrincipalKey] is not Principal principal)
        {
            // The authentication middleware runs first on every API route; reaching here without a principal is a bug.
            throw HttpErrors.MissingApiKey();
        }

        var dialect = context.GetEndpoint()?.Metadata.GetMetadata<DialectMetadata>()?.Dialect ?? Dialect.OpenAi;
        return ValueTask.FromResult<RequestContext?>(new RequestContext(principal, dialect));
    }
}
