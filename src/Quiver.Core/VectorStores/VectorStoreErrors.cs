using Quiver.Core.Errors;

namespace Quiver.Core.VectorStores;

/// <summary>Errors of the vector store routes.</summary>
public static class VectorStoreErrors
{
    public static ApiException StoreNotFound(string storeId) =>
        ApiErrors.NotFound($"No vector store found with id '{storeId}'.", "vector_store_id");

    public static ApiException StoreFileNotFound(string storeId, string fileId) =>
        ApiErrors.NotFound($"No file with id '{fileId}' is attached to vector store '{storeId}'.", "file_id");

    public static ApiException BatchNotFound(string batchId) =>
        ApiErrors.NotFound($"No file batch found with id '{batchId}' in this vector store.", "batch_id");

    public static ApiException StoreExpired(string storeId) =>
        ApiErrors.BadRequest($"Vector store '{storeId}' has expired. Create a new vector store; expired stores can still be retrieved, updated and deleted.",
            "vector_store_id", "vector_store_expired");
}
