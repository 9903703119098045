using AiOps.Abstractions;
using AiOps.Grains.Entities;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Hosting;

/// <summary>
/// Fires time-driven rules whose deadline passed, whether or not the entity's grain is active (an idle grain is
/// collected after 15 minutes and its timers stop with it): takes the due entries from the persisted rule schedule
/// and asks each entity to evaluate its rules, which activates it from storage if needed.
/// </summary>
public sealed class RuleScheduler(IClusterClient client, IOptions<EntityGrainOptions> options, TimeProvider time, ILogger<RuleScheduler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var schedule = client.GetGrain<IRuleScheduleGrain>(IRuleScheduleGrain.DefaultKey);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.RuleCheckInterval, time, stoppingToken);
                var due = await schedule.TakeDueAsync(time.GetUtcNow().UtcDateTime, 1000);
                await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = stoppingToken },
                    async (entity, _) => await client.GetEntity(entity.Kind, entity.Id).EvaluateRulesAsync());
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Evaluating due rule deadlines failed; tried again");
            }
        }
    }
}
