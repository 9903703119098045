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
        Lineage.LineageApi.AddAiOpsLineage(builder);
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
        Otlp.OtlpApi.MapOtlpApi(app);
        app.MapEntitiesApi();
        app.MapValueApi();
        app.MapKeysApi();
        app.MapAlertsApi();
        app.MapFocusCostsApi();
        Lineage.LineageApi.MapLineageApi(app);
        var deployment = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AiOpsOptions>>().Value;
        if (deployment.Mode == DeploymentMode.Cluster && deployment.Dashboard)
        {
            // Orleans' own view of the cluster (silos, grains, calls), for admins; not part of the API document.
            Orleans.Dashboard.ServiceCollectionExtensions.MapOrleansDashboard(app, "/dashboard")
                .RequireAuthorization(Security.Policies.Admin)
                .ExcludeFromDescription();
        }
        return app;
    }
}
