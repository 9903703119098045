using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using Orleans.Runtime;

namespace AiOps.Grains.Alerts;

public sealed class AlertRoutingState
{
    public List<Silence> Silences { get; set; } = [];
    public List<WebhookSubscription> Subscriptions { get; set; } = [];
}

/// <summary>
/// Silences and webhook subscriptions (small, read on every notified alert event). Changes are written before
/// the call returns, so an operator's silence applies to the very next event.
/// </summary>
[GrainType("alertrouting")]
public sealed class AlertRoutingGrain(
    [PersistentState("alertrouting", StorageNames.Entities)] IPersistentState<AlertRoutingState> state,
    TimeProvider time)
    : Grain, IAlertRoutingGrain
{
    /// <summary>Expired silences stay listed this long, then are dropped.</summary>
    private static readonly TimeSpan KeepExpired = TimeSpan.FromDays(30);

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    public Task<AlertRoute> RouteAsync(AlertHeader alert)
    {
        var now = Now;
        Silence? silence = null;
        foreach (var s in state.State.Silences)
        {
            // Of several matching silences, report the one that lasts longest.
            if (s.IsActive(now) && s.Matches(alert) && (silence is null || s.EffectiveEnd > silence.EffectiveEnd)) silence = s;
        }
        var subs = state.State.Subscriptions.Where(s => s.Matches(alert)).Select(s => s.Id).ToArray();
        return Task.FromResult(new AlertRoute(silence, subs));
    }

    public async Task<Silence> AddSilenceAsync(Silence silence)
    {
        var now = Now;
        var kept = state.State.Silences.Where(s => s.EffectiveEnd + KeepExpired > now).ToList();
        kept.Add(silence);
        await SaveAsync(s => s.Silences = kept);
        return silence;
    }

    public Task<Silence[]> ListSilencesAsync() => Task.FromResult(state.State.Silences.ToArray());

    public async Task<Silence?> EndSilenceAsync(string id, string actor)
    {
        var i = state.State.Silences.FindIndex(s => s.Id == id);
        if (i < 0) return null;
        var existing = state.State.Silences[i];
        if (existing.EndedAt is not null || existing.ExpiresAt <= Now) return existing;
        var ended = existing with { EndedAt = Now, EndedBy = actor };
        var list = state.State.Silences.ToList();
        list[i] = ended;
        await SaveAsync(s => s.Silences = list);
        return ended;
    }

    public async Task<WebhookSubscription?> AddSubscriptionAsync(WebhookSubscription subscription, int maxSubscriptions)
    {
        if (state.State.Subscriptions.Count >= maxSubscriptions) return null;
        var list = state.State.Subscriptions.Append(subscription).ToList();
        await SaveAsync(s => s.Subscriptions = list);
        return subscription;
    }

    public Task<WebhookSubscription[]> ListSubscriptionsAsync() => Task.FromResult(state.State.Subscriptions.ToArray());

    public Task<WebhookSubscription?> GetSubscriptionAsync(string id) =>
        Task.FromResult(state.State.Subscriptions.FirstOrDefault(s => s.Id == id));

    public async Task<bool> RemoveSubscriptionAsync(string id)
    {
        if (!state.State.Subscriptions.Any(s => s.Id == id)) return false;
        var list = state.State.Subscriptions.Where(s => s.Id != id).ToList();
        await SaveAsync(s => s.Subscriptions = list);
        await GrainFactory.GetGrain<IWebhookOutboxGrain>(id).PurgeAsync();
        return true;
    }

    /// <summary>Applies a change (lists are replaced, never mutated) and writes it; on failure the previous lists are restored.</summary>
    private async Task SaveAsync(Action<AlertRoutingState> apply)
    {
        var (silences, subscriptions) = (state.State.Silences, state.State.Subscriptions);
        apply(state.State);
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            (state.State.Silences, state.State.Subscriptions) = (silences, subscriptions);
            throw;
        }
    }
}
