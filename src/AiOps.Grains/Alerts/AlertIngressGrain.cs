using AiOps.Abstractions.Alerts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace AiOps.Grains.Alerts;

/// <summary>
/// Cheap entry point: a stateless worker (local to the calling silo) that routes signals to one
/// <see cref="IAlertKeyGrain"/> per alert key. A key with no call in flight is forwarded at once (no added
/// latency); while a call is in flight, further signals for that key are buffered and sent as one batch when
/// it completes — batching grows with load instead of with a timer. One activation per silo keeps the signals of
/// an entity grain in the order it sent them (the alert grain also orders by event time).
/// </summary>
[StatelessWorker(1)]
[GrainType("alertingress")]
public sealed class AlertIngressGrain(IOptions<AlertingOptions> options, AlertingMetrics metrics, ILogger<AlertIngressGrain> logger)
    : Grain, IAlertIngressGrain
{
    private readonly Dictionary<string, List<AlertSignal>> _inFlight = new(StringComparer.Ordinal);
    private readonly int _maxBuffered = options.Value.MaxBufferedSignalsPerKey;

    public Task SignalAsync(AlertSignal[] signals)
    {
        foreach (var s in signals) Route(s);
        return Task.CompletedTask;
    }

    private void Route(AlertSignal s)
    {
        if (string.IsNullOrEmpty(s.EntityId) || string.IsNullOrEmpty(s.Metric)) return;
        metrics.Signalled(s.Kind, s.Firing);
        var key = AlertKey.Of(s).ToString();
        if (_inFlight.TryGetValue(key, out var buffer))
        {
            if (buffer.Count >= _maxBuffered)
            {
                logger.LogWarning("Dropping a signal for {Key}: {Count} already buffered", key, buffer.Count);
                return;
            }
            buffer.Add(s);
            return;
        }
        _inFlight[key] = [];
        _ = ForwardAsync(key, [s]);
    }

    private async Task ForwardAsync(string key, AlertSignal[] batch)
    {
        var grain = GrainFactory.GetGrain<IAlertKeyGrain>(key);
        while (true)
        {
            try
            {
                await grain.SignalAsync(batch);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Alert grain {Key} failed to take {Count} signals", key, batch.Length);
            }
            // Continuations run on this activation, one at a time: the buffer is not shared with other threads.
            var buffered = _inFlight[key];
            if (buffered.Count == 0)
            {
                _inFlight.Remove(key);
                return;
            }
            batch = buffered.ToArray();
            buffered.Clear();
        }
    }
}
