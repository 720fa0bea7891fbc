using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Quiver.Server.Contracts;

namespace Quiver.Server.Json;

/// <summary>
/// Source-generated serialisation for every wire type. Names are snake_case; nulls are written
/// (the contract needs <c>last_error: null</c> and <c>param</c>/<c>code</c> present when null).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(FileObject))]
[JsonSerializable(typeof(FileDeleted))]
[JsonSerializable(typeof(ListResponse<FileObject>))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(VectorStoreObject))]
[JsonSerializable(typeof(ListResponse<VectorStoreObject>))]
[JsonSerializable(typeof(VectorStoreDeleted))]
[JsonSerializable(typeof(VectorStoreFileObject))]
[JsonSerializable(typeof(ListResponse<VectorStoreFileObject>))]
[JsonSerializable(typeof(VectorStoreFileDeleted))]
[JsonSerializable(typeof(FileBatchObject))]
[JsonSerializable(typeof(FileContentObject))]
[JsonSerializable(typeof(FileContentPage))]
[JsonSerializable(typeof(CreateVectorStoreRequest))]
[JsonSerializable(typeof(UpdateVectorStoreRequest))]
[JsonSerializable(typeof(CreateVectorStoreFileRequest))]
[JsonSerializable(typeof(UpdateVectorStoreFileRequest))]
[JsonSerializable(typeof(CreateFileBatchRequest))]
[JsonSerializable(typeof(EmbeddingsRequest))]
[JsonSerializable(typeof(SearchRequestBody))]
[JsonSerializable(typeof(SearchResultsPage))]
[JsonSerializable(typeof(SearchResultsPageOpenAi))]
[JsonSerializable(typeof(EmbeddingsResponse))]
[JsonSerializable(typeof(EmbeddingsBase64Response))]
[JsonSerializable(typeof(SimpleList<EmbeddingModelObject>))]
[JsonSerializable(typeof(SimpleList<ModelObject>))]
[JsonSerializable(typeof(ExchangeTokenRequest))]
[JsonSerializable(typeof(ExchangeTokenResponse))]
[JsonSerializable(typeof(JwksDocument))]
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(UpdateApiKeyRequest))]
[JsonSerializable(typeof(ApiKeyObject))]
[JsonSerializable(typeof(ListResponse<ApiKeyObject>))]
[JsonSerializable(typeof(ApiKeyDeleted))]
[JsonSerializable(typeof(SigningKeyObject))]
[JsonSerializable(typeof(SimpleList<SigningKeyObject>))]
[JsonSerializable(typeof(RoleAssignmentRequest))]
[JsonSerializable(typeof(CreateResourceRequest))]
[JsonSerializable(typeof(DeleteResourceRequest))]
[JsonSerializable(typeof(AuthorizationCheckResponse))]
[JsonSerializable(typeof(AuthorizationListResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The options every response is written with: the generated metadata plus relaxed escaping,
    /// so messages read <c>'file_id'</c> rather than <c>\u0027file_id\u0027</c>. Safe because
    /// bodies are served as application/json, never embedded in HTML.
    /// </summary>
    public static readonly ApiJsonContext Wire = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
