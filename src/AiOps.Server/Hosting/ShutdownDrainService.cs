using AiOps.Abstractions;
using AiOps.Grains.Entities;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace AiOps.Server.Hosting;

/// <summary>
/// Graceful stop (SIGTERM, Ctrl-C): after the HTTP server has stopped taking requests and the publisher has
/// flushed its buffer (hosted services stop in reverse order), wait for the memory streams to deliver what
/// was accepted, then save every active entity grain and the value grain — so a graceful stop loses nothing.
/// </summary>
public sealed class ShutdownDrainService(
    IClusterClient client,
    IngestionProgress progress,
    ILocalSiloDetails silo,
    IOptions<AiOpsOptions> options,
    ILogger<ShutdownDrainService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Mode == DeploymentMode.Embedded)
        {
            // Memory streams do not survive the process: deliver the backlog first. (ADO.NET streams keep it in PostgreSQL.)
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (progress.Backlog > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
                await Task.Delay(20, CancellationToken.None);
            if (progress.Backlog > 0) logger.LogError("Stopping with {Backlog} accepted events not yet applied", progress.Backlog);
        }

        try
        {
            var management = client.GetGrain<IManagementGrain>(0);
            // Filtered here by grain type: the management grain's own type filter compares CLR type names, not grain types
            // (with the kinds' grain types it found nothing, and the save was left to deactivation).
            var active = (await management.GetDetailedGrainStatistics(null, [silo.SiloAddress]))
                .Where(stat => EntityKinds.TryFromGrainType(stat.GrainId.Type.ToString(), out _))
                .ToList();
            var flushed = 0;
            await Parallel.ForEachAsync(active, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = CancellationToken.None }, async (stat, _) =>
            {
                EntityKinds.TryFromGrainType(stat.GrainId.Type.ToString(), out var kind);
                await client.GetEntity(kind, stat.GrainId.Key.ToString()!).FlushAsync();
                Interlocked.Increment(ref flushed);
            });
            // Digests the entities handed this silo's collector at their last tick (a flush reports only what changed
            // since): forwarded now, while the value grain is still there, not at the collector's deactivation.
            await client.GetGrain<AiOps.Grains.Value.IDigestCollectorGrain>(0).FlushNowAsync();
            await client.GetGrain<IValueGrain>(IValueGrain.DefaultKey).FlushAsync();
            logger.LogInformation("Saved {Count} entity grains before stopping", flushed);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Saving grains before stopping failed; they will still try on deactivation");
        }
    }
}
