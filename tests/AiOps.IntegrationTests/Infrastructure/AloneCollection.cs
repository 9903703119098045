namespace AiOps.IntegrationTests.Infrastructure;

/// <summary>
/// Tests that read the application's own instruments from an in-process server's <c>/metrics</c>. xUnit runs this
/// collection after all others, with nothing beside it. Every in-process server creates a meter named <c>AiOps</c>,
/// and each server's OpenTelemetry provider listens to that name process-wide, so identical instruments of two live
/// servers share one metric stream; when the other server is disposed (a test class beside this one finishing), the
/// SDK drops the shared stream and this server's instrument disappears from its own scrape
/// (open-telemetry/opentelemetry-dotnet#6412). A server process has one meter of each name, so users never see this;
/// the out-of-process <see cref="PrometheusTests"/> need no such care.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone: reads /metrics of an in-process server";
}
