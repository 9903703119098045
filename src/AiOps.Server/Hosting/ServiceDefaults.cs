using System.Text.Json;
using System.Text.Json.Serialization;
using AiOps.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AiOps.Server.Hosting;

public static class ServiceDefaults
{
    /// <summary>Orleans' activity sources (grain calls) for traces.</summary>
    private static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    /// <summary>The environment variable (or configuration key) that turns the OTLP exporter on, as in every OpenTelemetry SDK.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Whether traces (and logs) are exported: only with an OTLP endpoint configured.</summary>
    public static bool ExportsTraces(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);

    /// <summary>
    /// What every AiOps process has, whatever its role: the clock, JSON conventions, RFC 9457 problem details, the
    /// OpenAPI document, OpenTelemetry (metrics always, for Prometheus' <c>/metrics</c>; with
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, also traces of HTTP requests, outbound calls and grain calls, logs,
    /// and the metrics, all pushed by OTLP) and health checks.
    /// </summary>
    public static WebApplicationBuilder AddAiOpsServiceDefaults(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new EntityKindJsonConverter());
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOpenApi(o => o.AddDocumentTransformer<ApiKeySecuritySchemeTransformer>());

        var otlp = ExportsTraces(builder.Configuration);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("aiops", serviceVersion: typeof(ServiceDefaults).Assembly.GetName().Version?.ToString()))
            .WithMetrics(m => m
                .AddMeter(AiOpsMetrics.MeterName, "Microsoft.Orleans", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                .AddPrometheusExporter());
        if (otlp)
        {
            // Traces and logs only when they go somewhere: a listened-to activity source costs on every grain call.
            telemetry
                .WithTracing(t => t
                    .AddSource(OrleansSources)
                    .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/metrics") && !ctx.Request.Path.StartsWithSegments("/health"))
                    .AddHttpClientInstrumentation())
                .WithLogging()
                .UseOtlpExporter();
        }

        services.AddHealthChecks().AddCheck<ReadinessCheck>("orleans", tags: ["ready"]);
        return builder;
    }
}
