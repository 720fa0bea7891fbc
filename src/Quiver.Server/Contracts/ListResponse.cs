namespace Quiver.Server.Contracts;

/// <summary>The list envelope (MKA1 reference §1.5): all five fields always present.</summary>
public sealed record ListResponse<T>(string Object, IReadOnlyList<T> Data, string? FirstId, string? LastId, bool HasMore);
