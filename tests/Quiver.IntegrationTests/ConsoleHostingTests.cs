using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Quiver.IntegrationTests.Infrastructure;
using static Quiver.IntegrationTests.Infrastructure.Api;

namespace Quiver.IntegrationTests;

/// <summary>
/// The web console (docs/console.md) is served by the server from embedded files, without a key,
/// with its security headers; every module it imports is there. The pages themselves are tested
/// in Chromium by tests/console.
/// </summary>
public sealed partial class ConsoleHostingTests(QuiverFactory factory) : IClassFixture<QuiverFactory>
{
    private const string Csp =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private HttpClient Client() => factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [Fact]
    public async Task Console_without_a_slash_redirects_to_the_page()
    {
        using var response = await Client().GetAsync("/console", Ct);
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("/console/", response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task The_page_is_served_without_a_key_with_its_security_headers()
    {
        using var response = await Client().GetAsync("/console/", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Csp, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("no-cache", response.Headers.CacheControl!.ToString());
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("<script type=\"module\" src=\"app.js\"></script>", html, StringComparison.Ordinal);
        Assert.Contains("<link rel=\"stylesheet\" href=\"style.css\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_module_the_console_imports_is_served_as_javascript()
    {
        var client = Client();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>(["app.js"]);
        while (pending.TryDequeue(out var name))
        {
            if (!seen.Add(name))
            {
                continue;
            }

            using var response = await client.GetAsync("/console/" + name, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/console/{name}: {(int)response.StatusCode}");
            Assert.Equal("text/javascript", response.Content.Headers.ContentType!.MediaType);
            var source = await response.Content.ReadAsStringAsync(Ct);
            Assert.DoesNotContain("innerHTML", source, StringComparison.Ordinal);
            foreach (Match import in ImportPattern().Matches(source))
            {
                pending.Enqueue(import.Groups[1].Value);
            }
        }

        Assert.Equal(["api.js", "app.js", "keys.js", "search.js", "store.js", "stores.js", "view.js"], seen.Order(StringComparer.Ordinal));
        using var css = await client.GetAsync("/console/style.css", Ct);
        Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task An_unknown_console_file_is_404_and_the_api_still_needs_a_key()
    {
        using (var response = await Client().GetAsync("/console/nope.js", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using (var response = await Client().GetAsync("/v1/vector_stores", Ct))
        {
            await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "authentication_error", null, null);
        }
    }

    [GeneratedRegex(@"from '\./([a-z]+\.js)'")]
    private static partial Regex ImportPattern();
}
