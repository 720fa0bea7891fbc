using System.Text.Json.Serialization;

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
