using Microsoft.AspNetCore.Http.HttpResults;
using Quiver.Core.Hosting;
using Quiver.Core.Storage;
using Quiver.Server.Contracts;

namespace Quiver.Server.Endpoints;

/// <summary>Liveness and readiness probes; no API key needed.</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("ok", []))).WithName("healthz").WithTags("Health");
        app.MapGet("/readyz", ReadyAsync).WithName("readyz").WithTags("Health");
        return app;
    }

    /// <summary>Ready when storage answers at the expected schema version and every registered component (workers) runs.</summary>
    private static async Task<Results<Ok<HealthStatus>, JsonHttpResult<HealthStatus>>> ReadyAsync(
        ReadinessState readiness, IStorageHealth storage, CancellationToken ct)
    {
        var notReady = readiness.NotReady().ToList();
        if (await storage.CheckAsync(ct) is { } problem)
        {
            notReady.Add(problem);
        }

        return notReady.Count == 0
            ? TypedResults.Ok(new HealthStatus("ok", []))
            : TypedResults.Json(new HealthStatus("unavailable", notReady), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
