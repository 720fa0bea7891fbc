using System.Text.Json.Nodes;

namespace Quiver.Server.Cli;

/// <summary>Finds the vector store a command line names: by id (<c>vs_…</c>) or by its unique name.</summary>
internal static class StoreResolver
{
    /// <summary>
    /// The store's id; null when no store has that name (and <paramref name="createIfMissing"/> is false, or the
    /// argument looks like an id: a mistyped or deleted <c>vs_…</c> id must not turn into a new store named like it).
    /// </summary>
    /// <exception cref="InvalidOperationException">Several stores carry the name.</exception>
    public static async Task<string?> ResolveAsync(ServerClient client, string nameOrId, bool createIfMissing, CancellationToken ct)
    {
        if (nameOrId.StartsWith("vs_", StringComparison.Ordinal))
        {
            // The id first; then a store named like an id, never created.
            try
            {
                return (await client.GetAsync($"v1/vector_stores/{Uri.EscapeDataString(nameOrId)}", ct))["id"]!.GetValue<string>();
            }
            catch (ServerError e) when (e.Status is 404 or 400)
            {
                // Not an id after all: a store may be named like one.
            }
        }

        var looksLikeId = nameOrId.StartsWith("vs_", StringComparison.Ordinal);
        var named = (await client.ListAllAsync("v1/vector_stores", ct)).Where(s => s["name"]?.GetValue<string>() == nameOrId).ToList();
        switch (named.Count)
        {
            case 1:
                return named[0]["id"]!.GetValue<string>();
            case > 1:
                throw new InvalidOperationException(
                    $"{named.Count} vector stores are named '{nameOrId}' ({string.Join(", ", named.Select(s => s["id"]!.GetValue<string>()))}); pass the id instead.");
            case 0 when createIfMissing && !looksLikeId:
                return (await client.PostAsync("v1/vector_stores", new JsonObject { ["name"] = nameOrId }, ct))["id"]!.GetValue<string>();
            default:
                return null;
        }
    }
}
