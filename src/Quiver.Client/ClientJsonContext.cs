using System.Text.Json.Serialization;

namespace Quiver.Client;

/// <summary>Source-generated JSON metadata for the client's own types (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(QuiverFile))]
[JsonSerializable(typeof(ListPage<QuiverFile>))]
[JsonSerializable(typeof(DeletionStatus))]
[JsonSerializable(typeof(VectorStore))]
[JsonSerializable(typeof(ListPage<VectorStore>))]
[JsonSerializable(typeof(VectorStoreFile))]
[JsonSerializable(typeof(ListPage<VectorStoreFile>))]
[JsonSerializable(typeof(VectorStoreFileBatch))]
[JsonSerializable(typeof(VectorStoreFileContent))]
[JsonSerializable(typeof(VectorStoreSearchResults))]
[JsonSerializable(typeof(CreateVectorStoreRequest))]
[JsonSerializable(typeof(UpdateVectorStoreRequest))]
[JsonSerializable(typeof(CreateVectorStoreFileRequest))]
[JsonSerializable(typeof(CreateFileBatchRequest))]
[JsonSerializable(typeof(SearchVectorStoreRequest))]
[JsonSerializable(typeof(IDictionary<string, AttributeValue>))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
