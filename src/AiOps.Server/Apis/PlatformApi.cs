using AiOps.Server.Hosting;
using AiOps.Server.Security;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace AiOps.Server.Apis;

/// <summary>Health, API documentation and the Prometheus scrape endpoint.</summary>
public static class PlatformApi
{
    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        // The only routes without a key: orchestrators probe them.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();
        return app;
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        var publicDocs = app.Services.GetRequiredService<IOptions<AiOpsOptions>>().Value.PublicApiDocs;
        var openApi = app.MapOpenApi("/openapi/{documentName}.json");
        var scalar = app.MapScalarApiReference("/scalar", o => o
            .WithTitle("AiOps API")
            .AddPreferredSecuritySchemes("ApiKey"));
        if (publicDocs)
        {
            openApi.AllowAnonymous();
            scalar.AllowAnonymous();
        }
        else
        {
            openApi.RequireAuthorization(Policies.Read);
            scalar.RequireAuthorization(Policies.Read);
        }
        return app;
    }

    public static WebApplication MapPrometheusMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(Policies.Read);
        return app;
    }
}
