using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace AiOps.Grains.Alerts;

public sealed class AlertIndexState
{
    public List<AlertHeader> Headers { get; set; } = [];
}

/// <summary>
/// Headers of every active alert and of the newest <see cref="AlertingOptions.IndexMaxResolved"/> resolved
/// ones, newest first (ids are time-ordered). Written behind; the alert grains hold the full records.
/// </summary>
[GrainType("alertindex")]
public sealed class AlertIndexGrain(
    [PersistentState("alertindex", StorageNames.Entities)] IPersistentState<AlertIndexState> state,
    IOptions<AlertingOptions> options)
    : Grain, IAlertIndexGrain
{
    private readonly SortedDictionary<string, AlertHeader> _byId = new(Comparer<string>.Create((a, b) => string.CompareOrdinal(b, a)));
    private readonly SortedSet<string> _resolved = new(StringComparer.Ordinal); // oldest first
    private IGrainTimer? _timer;
    private bool _dirty;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var h in state.State.Headers) Put(h);
        state.State.Headers = [];
        var every = options.Value.IndexPersistInterval;
        _timer = this.RegisterGrainTimer(SaveIfDirtyAsync, new GrainTimerCreationOptions(every, every));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        await SaveIfDirtyAsync(cancellationToken);
    }

    private async Task SaveIfDirtyAsync(CancellationToken cancellationToken)
    {
        if (!_dirty) return;
        _dirty = false;
        state.State.Headers = _byId.Values.ToList();
        try
        {
            await state.WriteStateAsync(cancellationToken);
        }
        catch
        {
            _dirty = true;
            throw;
        }
        finally
        {
            state.State.Headers = [];
        }
    }

    public Task UpsertAsync(AlertHeader[] headers)
    {
        foreach (var h in headers) Put(h);
        var max = options.Value.IndexMaxResolved;
        while (_resolved.Count > max)
        {
            var oldest = _resolved.Min!;
            _resolved.Remove(oldest);
            _byId.Remove(oldest);
        }
        _dirty = true;
        return Task.CompletedTask;
    }

    private void Put(AlertHeader h)
    {
        if (_byId.TryGetValue(h.Id, out var known) && known.Revision > h.Revision) return;
        _byId[h.Id] = h;
        if (h.State == AlertState.Resolved) _resolved.Add(h.Id);
        else _resolved.Remove(h.Id);
    }

    public Task<AlertHeader?> FindAsync(string alertId) => Task.FromResult(_byId.GetValueOrDefault(alertId));

    public Task<AlertPage> QueryAsync(AlertQuery q)
    {
        var matches = _byId.Values.Where(h =>
            (q.States is not { Length: > 0 } || q.States.Contains(h.State))
            && (q.Kinds is not { Length: > 0 } || q.Kinds.Contains(h.Kind))
            && (q.Severities is not { Length: > 0 } || q.Severities.Contains(h.Severity))
            && (q.MinSeverity is null || h.Severity >= q.MinSeverity)
            && (q.EntityKind is null || h.EntityKind == q.EntityKind)
            && (q.EntityId is null || Glob.IsMatch(q.EntityId, h.EntityId, ignoreCase: false))
            && (q.Metric is null || Glob.IsMatch(q.Metric, h.Metric, ignoreCase: false))
            && (q.From is null || h.OpenedAt >= q.From)
            && (q.To is null || h.OpenedAt < q.To)
            && (q.Silenced is null || h.Silenced == q.Silenced)
            && (q.Reasons is not { Length: > 0 } || (h.Reason is { } r && q.Reasons.Contains(r))));
        var total = 0;
        var items = new List<AlertHeader>(Math.Min(q.Limit, 1000));
        foreach (var h in matches)
        {
            if (total >= q.Offset && items.Count < q.Limit) items.Add(h);
            total++;
        }
        return Task.FromResult(new AlertPage(items, total, q.Offset, q.Limit));
    }

    public Task<string[]> GetActiveKeysAsync() =>
        Task.FromResult(_byId.Values.Where(h => h.State != AlertState.Resolved).Select(h => h.Key).Distinct().ToArray());

    public Task<OpenAlertCount[]> GetActiveCountsAsync() =>
        Task.FromResult(_byId.Values.Where(h => h.State != AlertState.Resolved)
            .GroupBy(h => (h.Kind, h.Severity))
            .Select(g => new OpenAlertCount(g.Key.Kind, g.Key.Severity, g.Count()))
            .ToArray());
}
