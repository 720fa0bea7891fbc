using Microsoft.Extensions.FileProviders;

namespace Quiver.Server.Hosting;

/// <summary>
/// Serves the web console (docs/console.md) at <c>/console/</c> from files embedded in this
/// assembly (<c>src/Quiver.Server/console/</c>): nothing is read from disk or fetched at run time.
/// The console is static; it calls the HTTP API with the key the user signs in with.
/// </summary>
internal static class ConsoleHosting
{
    /// <summary>Where the console is served.</summary>
    public const string RequestPath = "/console";

    /// <summary>Manifest-name prefix of the embedded files (root namespace + folder).</summary>
    private const string ResourcePrefix = "Quiver.Server.console";

    /// <summary>Only our own files; no inline script or style; not framed.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    public static WebApplication UseQuiverConsole(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(ConsoleHosting).Assembly, ResourcePrefix);
        // "/console" redirects to "/console/", which serves index.html.
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = RequestPath });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = RequestPath,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.CacheControl = "no-cache";
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
            },
        });
        return app;
    }
}
