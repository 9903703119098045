using AiOps.Server.Alerting;
using AiOps.Server.Apis;
using AiOps.Server.Hosting;

namespace AiOps.Server;

/// <summary>The whole server, built once here so that Program, tests and benchmarks run the same thing.</summary>
public static class AiOpsApplication
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddAiOpsServer();
        builder.AddAiOpsAlerting();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthEndpoints();
        app.MapApiDocs();
        app.MapPrometheusMetrics();
        app.MapTelemetryApi();
        app.MapEntitiesApi();
        app.MapValueApi();
        app.MapKeysApi();
        app.MapAlertsApi();
        return app;
    }
}
