namespace Quiver.Core.Keys;

/// <summary>
/// Access-token settings, section <c>Quiver:Auth</c>: the issuer written into and required of
/// every token, and the audiences Quiver accepts a token for when it is used as a Bearer on its
/// own routes (a token for any other audience is meant for another service and is refused).
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Quiver:Auth";

    /// <summary>The <c>iss</c> claim (default <c>quiver</c>).</summary>
    public string Issuer { get; set; } = "quiver";

    /// <summary>The <c>aud</c> values Quiver accepts (default <c>urn:quiver</c>); binds from <c>Quiver:Auth:Audiences:0</c>, <c>:1</c>, ….</summary>
    public List<string> Audiences { get; set; } = [];

    /// <summary>Allowed clock difference when checking <c>exp</c> and <c>nbf</c>, in seconds (default 30).</summary>
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>The audiences in force: the configured ones, or <c>urn:quiver</c>.</summary>
    public IReadOnlyList<string> EffectiveAudiences => Audiences.Count > 0 ? Audiences : [DefaultAudience];

    public const string DefaultAudience = "urn:quiver";
}
