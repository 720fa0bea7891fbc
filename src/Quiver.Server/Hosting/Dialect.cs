namespace Quiver.Server.Hosting;

/// <summary>Which API dialect a route belongs to (DECISIONS D1): same behaviour, a few different shapes.</summary>
public enum Dialect
{
    /// <summary>MKA1, under <c>/api/v1/llm</c>.</summary>
    Mka1,

    /// <summary>OpenAI, under <c>/v1</c>.</summary>
    OpenAi,
}

/// <summary>Endpoint metadata carrying the route group's dialect.</summary>
internal sealed record DialectMetadata(Dialect Dialect);
