using AiOps.Grains.Alerts;
using AiOps.Grains.Entities;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AiOps.Grains;

public static class GrainsHosting
{
    /// <summary>
    /// What the grains need from their silo, in one place for the server and the test clusters: options bound from
    /// configuration (<c>AiOps:Grains</c>, <c>AiOps:Alerts</c>), the clock, ingestion progress and checkpoints, alerting
    /// metrics. Storage and streams stay with the host: they depend on the deployment (SQLite, PostgreSQL, memory).
    /// </summary>
    public static ISiloBuilder AddAiOpsGrains(this ISiloBuilder silo)
    {
        var services = silo.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IngestionProgress>();
        services.TryAddSingleton<IngestCheckpoints>();
        services.TryAddSingleton<AlertingMetrics>();
        services.TryAddSingleton<Detection.GrainMetrics>();
        services.AddOptions<EntityGrainOptions>().Bind(silo.Configuration.GetSection(EntityGrainOptions.Section))
            .Validate(o => o.AlarmThreshold > 0 && o.AlarmThreshold < 1, $"{EntityGrainOptions.Section}:AlarmThreshold must be in (0, 1)")
            .ValidateOnStart();
        services.AddOptions<AlertingOptions>().Bind(silo.Configuration.GetSection(AlertingOptions.Section));
        return silo;
    }
}
