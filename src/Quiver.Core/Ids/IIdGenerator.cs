namespace Quiver.Core.Ids;

/// <summary>Creates object ids: a prefix followed by random base62 characters.</summary>
public interface IIdGenerator
{
    /// <summary>A new id, e.g. <c>NewId("vs_")</c> → <c>vs_4fJ…</c>.</summary>
    string NewId(string prefix);
}
