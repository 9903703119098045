using AiOps.Abstractions.Alerts;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace AiOps.Grains.Alerts;

/// <summary>Silo-local collector of re-trigger header updates for the alert index.</summary>
[Alias("aiops.IAlertHeaderCollectorGrain")]
public interface IAlertHeaderCollectorGrain : IGrainWithIntegerKey
{
    [OneWay, Alias("Submit")]
    Task SubmitAsync(AlertHeader header);
}

/// <summary>
/// One activation per silo: alerts re-triggering many times a second cost the index one call per
/// <see cref="AlertingOptions.IndexFlushInterval"/> per silo, carrying the latest header of each alert.
/// </summary>
[StatelessWorker(1)]
[GrainType("alertheadercollector")]
public sealed class AlertHeaderCollectorGrain(IOptions<AlertingOptions> options) : Grain, IAlertHeaderCollectorGrain
{
    private readonly Dictionary<string, AlertHeader> _pending = new(StringComparer.Ordinal);
    private IGrainTimer? _timer;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var every = options.Value.IndexFlushInterval;
        _timer = this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(every, every));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        await FlushAsync(cancellationToken);
    }

    public Task SubmitAsync(AlertHeader header)
    {
        if (!_pending.TryGetValue(header.Id, out var known) || known.Revision < header.Revision) _pending[header.Id] = header;
        return Task.CompletedTask;
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0) return;
        var batch = _pending.Values.ToArray();
        _pending.Clear();
        try
        {
            await GrainFactory.GetGrain<IAlertIndexGrain>(IAlertIndexGrain.DefaultKey).UpsertAsync(batch);
        }
        catch
        {
            foreach (var h in batch) _pending.TryAdd(h.Id, h);
            throw;
        }
    }
}
