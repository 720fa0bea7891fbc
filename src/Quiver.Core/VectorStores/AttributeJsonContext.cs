using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quiver.Core.VectorStores;

/// <summary>Source-generated JSON for values Quiver.Core stores as JSON text.</summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, JsonElement>))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
internal sealed partial class AttributeJsonContext : JsonSerializerContext;
