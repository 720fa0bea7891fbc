using System.Text.Json.Serialization;

namespace Quiver.Core.Search;

/// <summary>Source-generated JSON for id lists passed to SQL as a single parameter (<c>json_each</c>).</summary>
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(long[]))]
internal sealed partial class SearchJsonContext : JsonSerializerContext;
