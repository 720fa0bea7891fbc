using System.Buffers.Text;
using System.Text;
using Quiver.Core.Errors;
using Quiver.Core.Tenancy;

namespace Quiver.Core.Access;

/// <summary>A page of <c>GET /authorization/llm/list</c>: resource ids and the token for the next page (null on the last).</summary>
public sealed record ResourcePage(IReadOnlyList<string> Resources, string? ContinuationToken);

/// <summary>
/// The authorization API (MKA1 §1.3) over <see cref="IGrantStore"/>: grants and revokes by
/// owners only, role checks, and the caller's direct relationships. Arguments arrive validated
/// for shape (types, patterns) by the endpoint; the rules about roles are decided here.
/// </summary>
internal sealed class AuthorizationService(IGrantStore grants, AccessChecker access, TimeProvider time)
{
    /// <summary>Resources per page of <see cref="ListAsync"/> when the request names no limit.</summary>
    public const int DefaultPageSize = 100;

    /// <summary>Most resources per page of <see cref="ListAsync"/>.</summary>
    public const int MaxPageSize = 100;

    /// <summary>Longest continuation token accepted (ours encode an id of at most 79 characters).</summary>
    public const int MaxContinuationTokenLength = 120;

    /// <summary>Longest <c>resourceId</c> accepted (MKA1).</summary>
    public const int MaxResourceIdLength = 79;

    /// <summary>Longest <c>userId</c> accepted (MKA1).</summary>
    public const int MaxUserIdLength = 169;

    public const string PublicUser = "*";

    public async Task GrantAsync(Principal caller, string type, string id, string user, ResourceRole role, CancellationToken ct)
    {
        RejectPublicOwner(user, role);
        await RequireOwnerAsync(caller, type, id, ct);
        await grants.GrantAsync(caller.Project, type, id, user, role, time.GetUtcNow().ToUnixTimeSeconds(), ct);
    }

    public async Task RevokeAsync(Principal caller, string type, string id, string user, ResourceRole role, CancellationToken ct)
    {
        RejectPublicOwner(user, role);
        await RequireOwnerAsync(caller, type, id, ct);
        await grants.RevokeAsync(caller.Project, type, id, user, role, ct);
    }

    /// <summary>True when the caller holds at least <paramref name="role"/>; a resource they cannot see is simply false.</summary>
    public async Task<bool> CheckAsync(Principal caller, string type, string id, ResourceRole role, CancellationToken ct) =>
        await access.RoleAsync(caller, type, id, ct) is { } held && held >= role;

    /// <summary>
    /// Confirms the caller as owner of an existing resource (creating one already made its creator
    /// owner); <paramref name="overwrite"/> drops every grant so that only the creator's ownership remains.
    /// </summary>
    public async Task CreateAsync(Principal caller, string type, string id, bool overwrite, CancellationToken ct)
    {
        await RequireOwnerAsync(caller, type, id, ct);
        if (overwrite)
        {
            await grants.DeleteAllAsync(caller.Project, type, id, ct);
        }
    }

    /// <summary>Removes every grant on the resource (the resource itself stays; delete it through its own route).</summary>
    public async Task DeleteAsync(Principal caller, string type, string id, CancellationToken ct)
    {
        await RequireOwnerAsync(caller, type, id, ct);
        await grants.DeleteAllAsync(caller.Project, type, id, ct);
    }

    /// <summary>Resources the caller created or was granted at least <paramref name="role"/> directly, by id.</summary>
    public async Task<ResourcePage> ListAsync(Principal caller, string type, ResourceRole role, string? continuationToken, int limit, CancellationToken ct)
    {
        var after = continuationToken is null ? null : DecodeToken(continuationToken);
        var ids = await grants.ListDirectAsync(caller.Project, type, caller.User, role, after, limit + 1, ct);
        if (ids.Count <= limit)
        {
            return new ResourcePage(ids, null);
        }

        var page = ids.Take(limit).ToList();
        return new ResourcePage(page, EncodeToken(page[^1]));
    }

    private async Task RequireOwnerAsync(Principal caller, string type, string id, CancellationToken ct) =>
        await access.RequireAsync(caller, type, id, ResourceRole.Owner, () => ResourceTypes.NotFound(type, id, "resourceId"), ct);

    private static void RejectPublicOwner(string user, ResourceRole role)
    {
        if (user == PublicUser && role == ResourceRole.Owner)
        {
            throw ApiErrors.BadRequest(
                "Public access ('userId': '*') can be granted only as 'reader' or 'writer', never 'owner'.", "role", "invalid_value");
        }
    }

    /// <summary>True for a valid <c>resourceId</c> / <c>userId</c>: <c>*</c> or letters, digits, <c>_</c> and <c>-</c>.</summary>
    public static bool IsValidName(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        if (value == PublicUser)
        {
            return true;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The token is the last id of the page, base64url-encoded: opaque to clients, checked on the way back.</summary>
    internal static string EncodeToken(string lastId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastId));

    internal static string DecodeToken(string token)
    {
        if (token.Length is > 0 and <= MaxContinuationTokenLength && Base64Url.IsValid(token))
        {
            var id = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            if (id.Length <= MaxResourceIdLength && id != PublicUser && IsValidName(id))
            {
                return id;
            }
        }

        throw ApiErrors.BadRequest(
            "Invalid 'continuationToken': it is not a token this server issued. Pass the 'continuationToken' of the previous page unchanged, or omit it for the first page.",
            "continuationToken", "invalid_continuation_token");
    }
}
