using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace AiOps.Grains.Alerts;

/// <summary>
/// Lifecycle of the alerts of one key (entity, metric, kind). Signal-driven changes are written behind
/// (<see cref="AlertingOptions.PersistInterval"/>, and on deactivation); operator actions are written before
/// the call returns. Notifications: opened, escalated, acknowledged, resolved (and a re-trigger of an alert
/// whose silence has ended) go to the live feed and, unless silenced, to matching webhook outboxes.
/// </summary>
[GrainType("alertkey")]
public sealed class AlertKeyGrain(
    [PersistentState("alertkey", StorageNames.Entities)] IPersistentState<AlertKeyState> state,
    IOptions<AlertingOptions> options,
    AlertingMetrics metrics,
    TimeProvider time,
    ILogger<AlertKeyGrain> logger,
    ILocalAlertFeed? localFeed = null)
    : Grain, IAlertKeyGrain
{
    private readonly AlertingOptions _options = options.Value;
    private AlertLifecycle? _lifecycle;
    private IGrainTimer? _persistTimer;
    private IGrainTimer? _lifecycleTimer;

    private AlertKeyState S => state.State;
    private DateTime Now => time.GetUtcNow().UtcDateTime;
    private AlertLifecycle L => _lifecycle ??= new AlertLifecycle(state.State, _options, () => Now);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _persistTimer = this.RegisterGrainTimer(PersistIfDirtyAsync, new GrainTimerCreationOptions(_options.PersistInterval, _options.PersistInterval));
        _lifecycleTimer = this.RegisterGrainTimer(CheckLifecycleAsync,
            new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        ScheduleLifecycle();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _persistTimer?.Dispose();
        _lifecycleTimer?.Dispose();
        try
        {
            await PersistIfDirtyAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not save alert key {Key} on deactivation", this.GetPrimaryKeyString());
        }
    }

    // ---- signals ---------------------------------------------------------------------------------

    public async Task SignalAsync(AlertSignal[] signals)
    {
        foreach (var s in signals) L.Apply(s);
        await AfterChangeAsync(persistNow: false);
    }

    public async Task<AlertDetail> FireTestAsync(AlertSignal signal)
    {
        L.Apply(signal, test: true);
        await AfterChangeAsync(persistNow: false); // written behind, like any signal-driven opening
        return S.Current!.ToDetail();
    }

    private async Task RecheckSilenceAsync()
    {
        if (S.Current is not { Silenced: true } current)
        {
            L.SilenceRechecked(null);
            return;
        }
        var route = await GrainFactory.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).RouteAsync(current.ToHeader());
        L.SilenceRechecked(route.Silence);
    }

    // ---- after a change: feed, routing, outboxes, index, persistence -------------------------------

    private async Task AfterChangeAsync(bool persistNow)
    {
        if (L.RecheckSilence) await RecheckSilenceAsync();
        foreach (var opened in L.Opened) metrics.Opened(opened.Kind, opened.Severity);
        L.Opened.Clear();
        var notify = L.Notifications.ToArray();
        L.Notifications.Clear();
        var transitions = notify.Length > 0;

        if (notify.Length > 0)
        {
            var routing = GrainFactory.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey);
            foreach (var (alert, entry, receivedAtMs) in notify)
            {
                AlertRoute route;
                try
                {
                    route = await routing.RouteAsync(alert.ToHeader());
                }
                catch (Exception ex)
                {
                    logger.LogError(ex, "Routing failed for alert {Id}; notifying without silences", alert.Id);
                    route = new AlertRoute(null, []);
                }
                AlertLifecycle.ApplySilence(alert, route.Silence);
                var header = alert.ToHeader();
                L.Feed.Add(AlertLifecycle.FeedEvent(alert, entry.Type, entry.EventId, entry.At, entry.Actor, entry.Text, receivedAtMs) with { Alert = header });
                PublishFeed(); // live feed first: it is the latency-sensitive path
                if (route.SubscriptionIds.Count > 0) await EnqueueAsync(alert, entry, header, route);
            }
        }
        PublishFeed();

        if (persistNow) await WriteAsync();
        ScheduleLifecycle();

        if (transitions)
        {
            L.IndexDirty = false;
            var headers = notify.Select(n => n.Alert).Distinct().Select(a => a.ToHeader()).ToArray();
            await GrainFactory.GetGrain<IAlertIndexGrain>(IAlertIndexGrain.DefaultKey).UpsertAsync(headers);
        }
        else if (L.IndexDirty && S.Current is { } current)
        {
            L.IndexDirty = false;
            await GrainFactory.GetGrain<IAlertHeaderCollectorGrain>(0).SubmitAsync(current.ToHeader());
        }
    }

    private async Task EnqueueAsync(AlertRecord alert, AlertHistoryEntry entry, AlertHeader header, AlertRoute route)
    {
        var now = Now;
        foreach (var sub in route.SubscriptionIds)
        {
            var deliveryId = $"{entry.EventId}.{sub}";
            if (alert.Silenced)
            {
                AddDelivery(alert, new DeliveryAttempt
                {
                    DeliveryId = deliveryId, SubscriptionId = sub, EventId = entry.EventId, EventType = entry.Type,
                    Attempt = 0, At = now, Outcome = "skipped-silenced", Error = $"silenced by {alert.SilenceId}",
                });
                continue;
            }
            var delivery = new WebhookDelivery
            {
                DeliveryId = deliveryId,
                AlertId = alert.Id,
                AlertKey = alert.Key,
                EventId = entry.EventId,
                EventType = entry.Type,
                Body = WebhookPayload.Build(deliveryId, sub, entry, header),
                CreatedAt = now,
            };
            try
            {
                await GrainFactory.GetGrain<IWebhookOutboxGrain>(sub).EnqueueAsync([delivery]);
                AddDelivery(alert, new DeliveryAttempt
                {
                    DeliveryId = deliveryId, SubscriptionId = sub, EventId = entry.EventId, EventType = entry.Type,
                    Attempt = 0, At = now, Outcome = "queued",
                });
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Could not queue delivery {Delivery}", deliveryId);
                AddDelivery(alert, new DeliveryAttempt
                {
                    DeliveryId = deliveryId, SubscriptionId = sub, EventId = entry.EventId, EventType = entry.Type,
                    Attempt = 0, At = now, Outcome = "not-queued", Error = ex.GetType().Name + ": " + ex.Message,
                });
            }
        }
    }

    private void AddDelivery(AlertRecord alert, DeliveryAttempt attempt) => L.AddDelivery(alert, attempt);

    private void PublishFeed()
    {
        if (L.Feed.Count == 0) return;
        var events = L.Feed.ToArray();
        L.Feed.Clear();
        SiloAddress? deliveredOn = null;
        if (localFeed is not null)
        {
            localFeed.Publish(events); // this silo's SSE clients, within this turn
            deliveredOn = localFeed.Silo;
        }
        GrainFactory.GetGrain<IAlertBroadcastGrain>(IAlertBroadcastGrain.DefaultKey).PublishAsync(events, deliveredOn).Ignore();
    }

    // ---- operator actions ----------------------------------------------------------------------

    public Task<AlertDetail?> GetAsync(string alertId) => Task.FromResult(L.Find(alertId)?.ToDetail());

    public async Task<AlertActionResult> AcknowledgeAsync(string alertId, string actor, string? reason)
    {
        var result = L.Acknowledge(alertId, actor, reason);
        if (result.Status == AlertActionStatus.Done) await AfterChangeAsync(persistNow: true);
        return result;
    }

    public async Task<AlertActionResult> ResolveAsync(string alertId, string actor, string? reason)
    {
        var result = L.Resolve(alertId, actor, reason);
        if (result.Status == AlertActionStatus.Done) await AfterChangeAsync(persistNow: true);
        return result;
    }

    public async Task<AlertActionResult> CommentAsync(string alertId, string actor, string text)
    {
        var result = L.Comment(alertId, actor, text);
        if (result.Status != AlertActionStatus.Done) return result;
        await AfterChangeAsync(persistNow: true);
        await GrainFactory.GetGrain<IAlertIndexGrain>(IAlertIndexGrain.DefaultKey).UpsertAsync([L.Find(alertId)!.ToHeader()]);
        return L.Find(alertId) is { } alert ? result with { Alert = alert.ToDetail() } : result;
    }

    public Task RecordDeliveryAsync(string alertId, DeliveryAttempt attempt)
    {
        if (L.Find(alertId) is { } alert) AddDelivery(alert, attempt);
        return Task.CompletedTask;
    }

    public Task WakeAsync() => Task.CompletedTask;

    // ---- automatic resolution --------------------------------------------------------------------

    private void ScheduleLifecycle()
    {
        if (_lifecycleTimer is null) return;
        if (L.Due() is not { } due)
        {
            _lifecycleTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var delay = due - Now;
        if (delay < TimeSpan.FromMilliseconds(1)) delay = TimeSpan.FromMilliseconds(1);
        if (delay > TimeSpan.FromDays(1)) delay = TimeSpan.FromDays(1); // re-evaluated then
        _lifecycleTimer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    private async Task CheckLifecycleAsync(CancellationToken cancellationToken)
    {
        if (L.ResolveIfDue())
        {
            await AfterChangeAsync(persistNow: true);
            return;
        }
        ScheduleLifecycle();
    }

    // ---- persistence -----------------------------------------------------------------------------

    private Task PersistIfDirtyAsync(CancellationToken cancellationToken) => L.Dirty ? WriteAsync() : Task.CompletedTask;

    private async Task WriteAsync()
    {
        L.Dirty = false;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            L.Dirty = true;
            throw;
        }
    }
}
