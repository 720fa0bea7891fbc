using Microsoft.AspNetCore.Http.HttpResults;
using Quiver.Core.Search;
using Quiver.Server.Auth;
using Quiver.Server.Contracts;
using Quiver.Server.Hosting;

namespace Quiver.Server.Endpoints;

/// <summary>Vector store search (MKA1 reference §3.6, DECISIONS D10/D11).</summary>
internal static class SearchEndpoints
{
    public static RouteGroupBuilder MapSearch(this RouteGroupBuilder api, string namePrefix)
    {
        api.MapPost("/vector_stores/{vector_store_id}/search", SearchVectorStoreAsync)
            .WithName(namePrefix + "searchVectorStore").WithTags("Vector stores").Accepts<SearchRequestBody>("application/json");
        return api;
    }

    private static async Task<Results<Ok<SearchResultsPage>, Ok<SearchResultsPageOpenAi>>> SearchVectorStoreAsync(
        RequestContext rc, string vector_store_id, HttpRequest request, VectorStoreSearchService search, CancellationToken ct)
    {
        var storeId = PathIds.Store(vector_store_id);
        var body = await JsonBody.ReadObjectAsync(request, allowEmpty: false, ct);
        var result = await search.SearchAsync(rc.Principal, storeId, SearchRequestBody.Parse(body), ct);
        var data = result.Items.Select(i => new SearchResultObject(i.FileId, i.Filename, i.Score, i.Attributes.Values, [new ContentPart("text", i.Text)])).ToList();
        return rc.Dialect == Dialect.Mka1
            ? TypedResults.Ok(new SearchResultsPage("vector_store.search_results.page", string.Join(' ', result.SearchQueries), data, false, null))
            : TypedResults.Ok(new SearchResultsPageOpenAi("vector_store.search_results.page", result.SearchQueries, data, false, null));
    }
}
