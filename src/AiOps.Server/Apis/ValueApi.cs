using AiOps.Abstractions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AiOps.Server.Apis;

public static class ValueApi
{
    public static IEndpointRouteBuilder MapValueApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/value", GetAsync)
            .WithName("GetValue")
            .WithTags("Value")
            .WithSummary("The unified value view: spend, budget, value delivered, ROI, unit costs, freshness, model health, top cost drivers")
            .RequireAuthorization(Security.Policies.Read);
        app.MapGet("/api/v1/metrics/vocabulary", () => TypedResults.Ok(MetricVocabulary.Definitions))
            .WithName("GetMetricVocabulary")
            .WithTags("Telemetry")
            .WithSummary("The metric names the platform understands, with unit, aggregation and the kinds they apply to")
            .RequireAuthorization(Security.Policies.Read);
        return app;
    }

    private static async Task<Ok<ValueReport>> GetAsync(IClusterClient client) =>
        TypedResults.Ok(await client.GetGrain<IValueGrain>(IValueGrain.DefaultKey).GetReportAsync());
}
