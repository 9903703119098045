using Orleans.Concurrency;

namespace AiOps.Abstractions.Alerts;

/// <summary>
/// Entry point of the alerting path. Entity grains send signals here (fire-and-forget, batched per call);
/// the implementation routes each to the grain owning its (entity, metric, kind) alert.
/// </summary>
[Alias("aiops.IAlertIngressGrain")]
public interface IAlertIngressGrain : IGrainWithIntegerKey
{
    [OneWay, Alias("Signal")]
    Task SignalAsync(AlertSignal[] signals);
}
