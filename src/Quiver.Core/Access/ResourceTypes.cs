using Quiver.Core.Errors;

namespace Quiver.Core.Access;

/// <summary>
/// The MKA1 resource types of the authorization API. This server holds files and vector stores;
/// the other MKA1 types are recognised so that asking about them is a precise invalid request, not a not-found.
/// </summary>
public static class ResourceTypes
{
    public const string File = "file";
    public const string VectorStore = "vector_store";

    /// <summary>MKA1 types that live in other services.</summary>
    private static readonly string[] NotServed = ["completion", "conversation", "response", "skill"];

    /// <summary>Returns <paramref name="value"/> when it is a served type, else an invalid-request error naming <paramref name="param"/>.</summary>
    public static string Require(string value, string param)
    {
        if (value is File or VectorStore)
        {
            return value;
        }

        if (Array.IndexOf(NotServed, value) >= 0)
        {
            throw ApiErrors.BadRequest(
                $"Resource type '{value}' is not served by this server: it holds only 'file' and 'vector_store' resources. Manage '{value}' roles with the service that holds them.",
                param, "unsupported_resource_type");
        }

        throw ApiErrors.BadRequest(
            $"Invalid '{param}': '{ApiErrors.Truncate(value)}'. Expected 'file' or 'vector_store'.", param, "invalid_value");
    }

    /// <summary>The not-found error for a resource the caller cannot see (same words as the resource's own routes).</summary>
    public static ApiException NotFound(string type, string id, string param) => type == File
        ? ApiErrors.FileNotFound(id, param)
        : ApiErrors.NotFound($"No vector store found with id '{id}'.", param);
}
