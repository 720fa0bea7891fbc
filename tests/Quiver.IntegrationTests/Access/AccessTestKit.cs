using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests.Access;

/// <summary>Helpers for the access-control tests: users, grants through the authorization API, raw requests.</summary>
internal static class AccessTestKit
{
    public const string Authz = "/api/v1/authorization/llm";

    /// <summary>A fresh user id that matches the authorization API's <c>userId</c> pattern.</summary>
    public static string NewUserId(string stem = "user") => stem + "-" + Guid.NewGuid().ToString("N");

    public static HttpClient As(this QuiverFactory factory, string user) => factory.CreateApiClient(onBehalfOf: user);

    public static async Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string url, string? json = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await client.SendAsync(request, Ct);
    }

    public static string Relationship(string type, string id, string user, string role) =>
        new JsonObject { ["resourceType"] = type, ["resourceId"] = id, ["userId"] = user, ["role"] = role }.ToJsonString();

    /// <summary>Grants (204 expected) through the authorization API.</summary>
    public static async Task GrantAsync(this HttpClient owner, string type, string id, string user, string role)
    {
        using var response = await owner.SendAsync(HttpMethod.Post, $"{Authz}/grant", Relationship(type, id, user, role));
        await AssertNoContentAsync(response);
    }

    public static async Task RevokeAsync(this HttpClient owner, string type, string id, string user, string role)
    {
        using var response = await owner.SendAsync(HttpMethod.Post, $"{Authz}/revoke", Relationship(type, id, user, role));
        await AssertNoContentAsync(response);
    }

    public static async Task<bool> CheckAsync(this HttpClient client, string type, string id, string role)
    {
        var answer = await client.GetJsonAsync($"{Authz}/check?resourceType={type}&resourceId={id}&role={role}");
        Assert.Equal(["allowed"], answer.Select(p => p.Key));
        return (bool)answer["allowed"]!;
    }

    public static async Task AssertNoContentAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"Expected 204, got {(int)response.StatusCode}: {body}");
        Assert.Equal("", body);
    }

    /// <summary>Every page of the authorization list, following <c>continuationToken</c>; returns the ids and the number of pages.</summary>
    public static async Task<(List<string> Ids, int Pages)> ListAllResourcesAsync(this HttpClient client, string query)
    {
        var ids = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var url = $"{Authz}/list?{query}" + (token is null ? "" : $"&continuationToken={Uri.EscapeDataString(token)}");
            var page = await client.GetJsonAsync(url);
            Assert.Equal(["resources", "continuationToken"], page.Select(p => p.Key));
            ids.AddRange(page["resources"]!.AsArray().Select(n => (string)n!));
            token = (string?)page["continuationToken"];
            pages++;
            Assert.True(pages < 100, "the continuation tokens do not end");
        }
        while (token is not null);
        return (ids, pages);
    }
}
