using AiOps.Abstractions.Alerts;
using Microsoft.Extensions.Logging;

namespace AiOps.Grains.Alerts;

/// <summary>
/// Fans alert events out to every silo's live-feed observer (one per silo, refreshed by lease), so SSE clients
/// on any silo see alerts raised on any silo. Not persisted: observers re-register within one lease period
/// if this grain moves.
/// </summary>
[GrainType("alertbroadcast")]
public sealed class AlertBroadcastGrain(TimeProvider time, ILogger<AlertBroadcastGrain> logger) : Grain, IAlertBroadcastGrain
{
    private readonly Dictionary<IAlertFeedObserver, (DateTimeOffset Until, SiloAddress? Silo)> _observers = [];

    public Task PublishAsync(AlertFeedEvent[] events, SiloAddress? deliveredOn)
    {
        if (_observers.Count == 0) return Task.CompletedTask;
        var now = time.GetUtcNow();
        List<IAlertFeedObserver>? expired = null;
        foreach (var (observer, (until, silo)) in _observers)
        {
            if (until < now)
            {
                (expired ??= []).Add(observer);
                continue;
            }
            if (deliveredOn is not null && deliveredOn.Equals(silo)) continue;
            try
            {
                observer.OnAlertsAsync(events).Ignore();
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not notify an alert feed observer");
            }
        }
        if (expired is not null) foreach (var o in expired) _observers.Remove(o);
        return Task.CompletedTask;
    }

    public Task SubscribeAsync(IAlertFeedObserver observer, TimeSpan lease, SiloAddress? silo)
    {
        _observers[observer] = (time.GetUtcNow() + lease, silo);
        return Task.CompletedTask;
    }

    public Task UnsubscribeAsync(IAlertFeedObserver observer)
    {
        _observers.Remove(observer);
        return Task.CompletedTask;
    }
}
