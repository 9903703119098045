using AiOps.Abstractions;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace AiOps.Grains.Value;

/// <summary>Silo-local collector: entity grains hand it digests, it forwards them to the value grain in batches.</summary>
[Alias("aiops.IDigestCollectorGrain")]
public interface IDigestCollectorGrain : IGrainWithIntegerKey
{
    [Alias("Submit")]
    Task SubmitAsync(EntityDigest digest);

    /// <summary>Forwards what it holds to the value grain now (a graceful stop, before the value grain saves).</summary>
    [Alias("Flush")]
    Task FlushNowAsync();
}

/// <summary>
/// One activation per silo (<see cref="StatelessWorkerAttribute"/>), so the value grain receives one call
/// per second per silo instead of one per entity.
/// </summary>
[StatelessWorker(1)]
[GrainType("digestcollector")]
public sealed class DigestCollectorGrain(ILogger<DigestCollectorGrain> logger) : Grain, IDigestCollectorGrain
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);
    private readonly Dictionary<(EntityKind, string), EntityDigest> _pending = [];
    private IGrainTimer? _timer;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _timer = this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(FlushInterval, FlushInterval) { Interleave = false });
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            // At a silo stop the value grain is often gone first: one line instead of an exception per attempt.
            logger.LogWarning("The value view did not get the last {Count} entity digests of this silo before deactivation ({Reason}): {Error}. It shows them once those entities report again.",
                _pending.Count, reason.ReasonCode, ex.Message);
        }
    }

    public Task FlushNowAsync() => FlushAsync(CancellationToken.None);

    public Task SubmitAsync(EntityDigest digest)
    {
        _pending[(digest.Kind, digest.Id)] = digest;
        return Task.CompletedTask;
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0) return;
        var batch = _pending.Values.ToArray();
        _pending.Clear();
        try
        {
            await GrainFactory.GetGrain<IValueGrain>(IValueGrain.DefaultKey).ReportAsync(batch);
        }
        catch
        {
            // Keep what has not been superseded meanwhile; the next tick retries.
            foreach (var d in batch) _pending.TryAdd((d.Kind, d.Id), d);
            throw;
        }
    }
}
