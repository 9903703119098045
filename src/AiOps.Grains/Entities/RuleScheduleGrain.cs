using AiOps.Abstractions;
using Orleans.Runtime;

namespace AiOps.Grains.Entities;

/// <summary>Persisted deadlines of the entities' time-driven rules (see <see cref="IRuleScheduleGrain"/>).</summary>
[GrainType("ruleschedule")]
public sealed class RuleScheduleGrain(
    [PersistentState("ruleschedule", StorageNames.Entities)] IPersistentState<RuleScheduleState> state) : Grain, IRuleScheduleGrain
{
    private bool _dirty;
    private IGrainTimer? _persist;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Changes are written behind within a second; an entity re-tells its deadline on its next digest anyway.
        _persist = this.RegisterGrainTimer(SaveIfDirtyAsync, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _persist?.Dispose();
        await SaveIfDirtyAsync(cancellationToken);
    }

    public Task ScheduleAsync(EntityKind kind, string id, DateTime? dueUtc)
    {
        var key = $"{kind.ToWire()}/{id}";
        if (dueUtc is { } due) state.State.Due[key] = new DateTimeOffset(DateTime.SpecifyKind(due, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        else if (!state.State.Due.Remove(key)) return Task.CompletedTask;
        _dirty = true;
        return Task.CompletedTask;
    }

    public async Task<EntityRef[]> TakeDueAsync(DateTime nowUtc, int max)
    {
        var now = new DateTimeOffset(DateTime.SpecifyKind(nowUtc, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        var due = state.State.Due.Where(kv => kv.Value <= now).OrderBy(kv => kv.Value).Take(max).Select(kv => kv.Key).ToList();
        if (due.Count == 0) return [];
        var result = new List<EntityRef>(due.Count);
        foreach (var key in due)
        {
            state.State.Due.Remove(key);
            var slash = key.IndexOf('/');
            if (slash > 0 && EntityKinds.TryParse(key.AsSpan(0, slash), out var kind)) result.Add(new EntityRef(kind, key[(slash + 1)..]));
        }
        // Written before the entities are asked: a crash then loses no deadline twice (they reschedule when evaluated).
        await state.WriteStateAsync();
        _dirty = false;
        return result.ToArray();
    }

    private async Task SaveIfDirtyAsync(CancellationToken cancellationToken)
    {
        if (!_dirty) return;
        _dirty = false;
        await state.WriteStateAsync();
    }
}

public sealed class RuleScheduleState
{
    /// <summary>"kind/id" → deadline (Unix ms).</summary>
    public Dictionary<string, long> Due { get; set; } = [];
}
