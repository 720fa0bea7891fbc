using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Quiver.Core.Telemetry;

namespace Quiver.Server.Hosting;

/// <summary>
/// Metrics and traces with OpenTelemetry (docs/observability.md): Quiver's own meter and spans, ASP.NET Core
/// and HttpClient instrumentation, the runtime's and Npgsql's pool metrics; Prometheus text at <c>/metrics</c>
/// (on by default, <c>Quiver:Telemetry:Metrics=false</c> turns it off) and OTLP export of both when
/// <c>Quiver:Telemetry:OtlpEndpoint</c> (or the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) is set.
/// </summary>
internal static class TelemetryRegistration
{
    public const string MetricsPath = "/metrics";

    public static WebApplicationBuilder AddQuiverTelemetry(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var metrics = configuration.GetValue("Quiver:Telemetry:Metrics", true);
        var otlp = configuration["Quiver:Telemetry:OtlpEndpoint"] ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (!metrics && string.IsNullOrWhiteSpace(otlp))
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("quiver", serviceVersion: typeof(TelemetryRegistration).Assembly.GetName().Version?.ToString()));
        telemetry.WithMetrics(m =>
        {
            m.AddMeter(QuiverTelemetry.Name, "Npgsql")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation();
            if (metrics)
            {
                m.AddPrometheusExporter();
            }

            if (!string.IsNullOrWhiteSpace(otlp))
            {
                m.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
            }
        });
        if (!string.IsNullOrWhiteSpace(otlp))
        {
            telemetry.WithTracing(t => t
                .AddSource(QuiverTelemetry.Name, "Npgsql")
                .AddAspNetCoreInstrumentation(o => o.Filter = context => context.Request.Path != MetricsPath)
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(o => o.Endpoint = new Uri(otlp)));
        }

        return builder;
    }

    public static WebApplication MapQuiverMetrics(this WebApplication app)
    {
        if (app.Configuration.GetValue("Quiver:Telemetry:Metrics", true))
        {
            app.MapPrometheusScrapingEndpoint(MetricsPath);
        }

        return app;
    }
}
