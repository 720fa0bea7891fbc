namespace Quiver.Core.Keys;

/// <summary>A stored API key. The secret itself is never stored, only its SHA-256.</summary>
public sealed record ApiKeyRecord(string Id, string Name, string Project, bool IsAdmin, long CreatedAt, long? RevokedAt);
