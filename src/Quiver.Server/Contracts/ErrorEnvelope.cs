namespace Quiver.Server.Contracts;

/// <summary>The OpenAI error envelope: <c>{"error":{"message","type","param","code"}}</c>, all four keys always present.</summary>
public sealed record ErrorEnvelope(ErrorBody Error);

/// <summary>The inside of <see cref="ErrorEnvelope"/>.</summary>
public sealed record ErrorBody(string Message, string Type, string? Param, string? Code);
