using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Quiver.Server.Auth;
using Quiver.Server.Endpoints;
using Quiver.Server.Errors;
using Quiver.Server.Json;
using Scalar.AspNetCore;

namespace Quiver.Server.Hosting;

/// <summary>The HTTP host's services and pipeline: JSON, errors, auth, OpenAPI and both API dialects.</summary>
internal static class ServerRegistration
{
    /// <summary>Route prefix of the MKA1 dialect.</summary>
    public const string Mka1Prefix = "/api/v1/llm";

    /// <summary>Route prefix of the OpenAI dialect.</summary>
    public const string OpenAiPrefix = "/v1";

    public static WebApplicationBuilder AddQuiverServer(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.Encoder = ApiJsonContext.Wire.Options.Encoder;
        });
        // Binding failures (malformed JSON, missing body) throw, so they reach the one error path.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddProblemDetails();
        services.AddOpenApi();
        services.AddHostedService<AdminKeyBootstrapper>();
        builder.WebHost.ConfigureKestrel(o => o.AddServerHeader = false);
        services.AddOptions<HttpLimitsOptions>().BindConfiguration(HttpLimitsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HttpLimitsOptions>, HttpLimitsValidator>();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<HttpLimitsOptions>>((kestrel, limits) => limits.Value.ApplyTo(kestrel.Limits));
        builder.AddQuiverTelemetry();
        return builder;
    }

    public static WebApplication UseQuiverServer(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(context => ErrorResponses.WriteAsync(context.HttpContext, ErrorResponses.ForBareStatus(context.HttpContext)));
        app.UseMiddleware<ApiKeyAuthenticationMiddleware>();
        app.UseQuiverConsole();

        app.MapHealth();
        app.MapQuiverMetrics();
        app.MapAuthentication();
        app.MapAdmin();
        app.MapAuthorization();
        app.MapOpenApi();
        app.MapScalarApiReference("/docs", o => o.WithOpenApiRoutePattern("/openapi/{documentName}.json").WithTitle("Quiver API"));

        MapApi(app, Mka1Prefix, Dialect.Mka1, "mka1_");
        MapApi(app, OpenAiPrefix, Dialect.OpenAi, "openai_");
        return app;
    }

    private static void MapApi(WebApplication app, string prefix, Dialect dialect, string namePrefix)
    {
        var api = app.MapGroup(prefix).WithMetadata(new DialectMetadata(dialect));
        api.MapFiles(namePrefix);
        api.MapVectorStores(namePrefix);
        api.MapVectorStoreFiles(namePrefix);
        api.MapFileBatches(namePrefix);
        api.MapSearch(namePrefix);
        api.MapEmbeddings(namePrefix);
    }
}

/// <summary>Fails start-up with the first invalid <c>Quiver:Http</c> value.</summary>
internal sealed class HttpLimitsValidator : IValidateOptions<HttpLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpLimitsOptions options) =>
        options.Validate() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
