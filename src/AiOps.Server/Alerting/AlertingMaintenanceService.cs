using AiOps.Abstractions.Alerts;
using AiOps.Grains.Alerts;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Alerting;

/// <summary>
/// Grains are activated by calls, and embedded mode has no reminder service: this wakes every webhook outbox
/// (so pending deliveries resume after a restart) and every active alert key (so auto-resolve timers run),
/// at startup and then periodically; it also refreshes the open-alert gauge.
/// </summary>
internal sealed class AlertingMaintenanceService(
    IGrainFactory grains,
    AlertingMetrics metrics,
    IOptions<AlertFeedOptions> options,
    ILogger<AlertingMaintenanceService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.MaintenanceInterval;
        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                first = false;
                await Task.Delay(interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.Log(first ? LogLevel.Debug : LogLevel.Warning, ex, "Alerting maintenance failed; retrying");
                try { await Task.Delay(first ? TimeSpan.FromMilliseconds(500) : interval, stoppingToken); } catch (OperationCanceledException) { break; }
            }
        }
    }

    internal async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var subscriptions = await grains.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).ListSubscriptionsAsync();
        await Task.WhenAll(subscriptions.Select(s => grains.GetGrain<IWebhookOutboxGrain>(s.Id).WakeAsync()));

        var index = grains.GetGrain<IAlertIndexGrain>(IAlertIndexGrain.DefaultKey);
        var keys = await index.GetActiveKeysAsync();
        foreach (var chunk in keys.Chunk(256))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.WhenAll(chunk.Select(k => grains.GetGrain<IAlertKeyGrain>(k).WakeAsync()));
        }
        metrics.SetOpenCounts(await index.GetActiveCountsAsync());
    }
}
