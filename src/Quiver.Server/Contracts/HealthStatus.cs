namespace Quiver.Server.Contracts;

/// <summary>Answer of <c>/healthz</c> and <c>/readyz</c>.</summary>
public sealed record HealthStatus(string Status, IReadOnlyList<string> NotReady);
