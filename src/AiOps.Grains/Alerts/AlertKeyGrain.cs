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
    private const string System = "system";
    private readonly AlertingOptions _options = options.Value;
    private readonly List<AlertFeedEvent> _feed = [];
    private readonly List<(AlertRecord Alert, AlertHistoryEntry Entry, long? ReceivedAtMs)> _notify = [];
    private IGrainTimer? _persistTimer;
    private IGrainTimer? _lifecycleTimer;
    private bool _dirty;
    private bool _indexDirty;
    private DateTime _lastRetriggerFeed;
    private DateTime _lastSilenceCheck;
    private bool _recheckSilence;

    private AlertKeyState S => state.State;
    private DateTime Now => time.GetUtcNow().UtcDateTime;

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
        foreach (var s in signals) Apply(s, test: false);
        await AfterChangeAsync(persistNow: false);
    }

    public async Task<AlertDetail> FireTestAsync(AlertSignal signal)
    {
        Apply(signal, test: true);
        await AfterChangeAsync(persistNow: false); // written behind, like any signal-driven opening
        return S.Current!.ToDetail();
    }

    private void Apply(AlertSignal s, bool test)
    {
        var now = Now;
        var current = S.Current;
        if (!s.Firing)
        {
            if (current is null) return;
            current.LastSignalAt = now;
            // Event time decides between signals that arrive out of order: a "normal" older than the latest
            // firing point is stale.
            if (s.At < current.LastSeenAt) return;
            current.NormalSince ??= now;
            current.NormalEventAt = s.At;
            _dirty = true;
            return;
        }

        var severity = SeverityRule.Of(s, _options.Severity);
        if (current is null)
        {
            Open(s, severity, now, test);
            return;
        }

        current.RetriggerCount++;
        current.LastSignalAt = now;
        if (current.NormalEventAt is not { } normalAt || s.At >= normalAt)
        {
            current.NormalSince = null;
            current.NormalEventAt = null;
        }
        current.MaxScore = Math.Max(current.MaxScore, s.Score);
        if (s.MoneyAtRisk is not null) current.MoneyAtRisk = Math.Max(current.MoneyAtRisk ?? 0, s.MoneyAtRisk.Value);
        if (s.ThresholdPercent is not null) current.ThresholdPercent = Math.Max(current.ThresholdPercent ?? 0, s.ThresholdPercent.Value);
        if (s.At >= current.LastSeenAt)
        {
            // The latest point (by event time) describes the alert; late arrivals only count.
            current.LastSeenAt = s.At;
            current.LastScore = s.Score;
            current.LastValue = s.Value;
            if (s.Expected is not null) current.Expected = s.Expected;
            if (s.Summary is not null) current.Summary = s.Summary;
        }
        current.UpdatedAt = now;
        current.Revision++;
        _dirty = true;
        _indexDirty = true;

        if (severity > current.Severity)
        {
            current.Severity = severity;
            Record(current, AlertEventType.Escalated, System, $"Severity raised to {severity.ToString().ToLowerInvariant()}: {s.Summary}", severity, notify: true, s.ReceivedAtMs);
        }
        else
        {
            // A silenced alert re-checks its silence on re-trigger (at once past the silence's end, else at most once
            // per RetriggerFeedInterval, which also catches silences ended early): if none applies any more, the
            // re-trigger is notified.
            if (current.Silenced && (now >= current.SilencedUntil || now - _lastSilenceCheck >= _options.RetriggerFeedInterval))
                _recheckSilence = true;
            if (now - _lastRetriggerFeed >= _options.RetriggerFeedInterval)
            {
                _lastRetriggerFeed = now;
                _feed.Add(FeedEvent(current, AlertEventType.Retriggered, SortableId.New(), now, System, null, s.ReceivedAtMs));
            }
        }
    }

    private async Task RecheckSilenceAsync()
    {
        _recheckSilence = false;
        if (S.Current is not { Silenced: true } current) return;
        _lastSilenceCheck = Now;
        var route = await GrainFactory.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).RouteAsync(current.ToHeader());
        if (route.Silence is { } silence)
        {
            current.SilenceId = silence.Id;
            current.SilencedUntil = silence.EffectiveEnd;
            return;
        }
        Record(current, AlertEventType.Retriggered, System, "Re-triggered after its silence ended.", current.Severity, notify: true);
    }

    private void Open(AlertSignal s, AlertSeverity severity, DateTime now, bool test)
    {
        var key = AlertKey.Of(s);
        var alert = new AlertRecord
        {
            Id = SortableId.New(now),
            Key = key.ToString(),
            Kind = s.Kind,
            EntityKind = s.EntityKind,
            EntityId = s.EntityId,
            Metric = s.Metric,
            State = AlertState.Open,
            Severity = severity,
            Test = test,
            OpenedAt = now,
            UpdatedAt = now,
            FirstSeenAt = s.At,
            LastSeenAt = s.At,
            LastSignalAt = now,
            // A test alert has no detector behind it: it resolves itself after the auto-resolve delay.
            NormalSince = test ? now : null,
            MaxScore = s.Score,
            LastScore = s.Score,
            LastValue = s.Value,
            Expected = s.Expected,
            MoneyAtRisk = s.MoneyAtRisk,
            ThresholdPercent = s.ThresholdPercent,
            Summary = s.Summary,
        };
        S.Current = alert;
        metrics.Opened(alert.Kind, severity);
        Record(alert, AlertEventType.Opened, System, s.Summary, severity, notify: true, s.ReceivedAtMs);
    }

    private AlertHistoryEntry Record(AlertRecord alert, AlertEventType type, string actor, string? text, AlertSeverity? severity, bool notify, long? receivedAtMs = null)
    {
        var now = Now;
        var entry = new AlertHistoryEntry { EventId = SortableId.New(now), Type = type, At = now, Actor = actor, Text = text, Severity = severity };
        alert.History.Add(entry);
        if (alert.History.Count > _options.MaxHistoryEntries) alert.History.RemoveAt(1); // keep "opened"
        alert.UpdatedAt = now;
        alert.Revision++;
        _dirty = true;
        if (notify) _notify.Add((alert, entry, receivedAtMs));
        else _feed.Add(FeedEvent(alert, type, entry.EventId, now, actor, text, receivedAtMs));
        return entry;
    }

    private static AlertFeedEvent FeedEvent(AlertRecord alert, AlertEventType type, string eventId, DateTime at, string? actor, string? text, long? receivedAtMs) => new()
    {
        EventId = eventId,
        Type = type,
        At = at,
        Alert = alert.ToHeader(),
        Actor = actor,
        Text = text,
        ReceivedAtMs = receivedAtMs,
    };

    // ---- after a change: feed, routing, outboxes, index, persistence -------------------------------

    private async Task AfterChangeAsync(bool persistNow)
    {
        if (_recheckSilence) await RecheckSilenceAsync();
        var notify = _notify.ToArray();
        _notify.Clear();
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
                alert.Silenced = route.Silence is not null;
                alert.SilenceId = route.Silence?.Id;
                alert.SilencedUntil = route.Silence?.EffectiveEnd;
                var header = alert.ToHeader();
                _feed.Add(FeedEvent(alert, entry.Type, entry.EventId, entry.At, entry.Actor, entry.Text, receivedAtMs) with { Alert = header });
                PublishFeed(); // live feed first: it is the latency-sensitive path
                if (route.SubscriptionIds.Count > 0) await EnqueueAsync(alert, entry, header, route);
            }
        }
        PublishFeed();

        if (persistNow) await WriteAsync();
        ScheduleLifecycle();

        if (transitions)
        {
            _indexDirty = false;
            var headers = notify.Select(n => n.Alert).Distinct().Select(a => a.ToHeader()).ToArray();
            await GrainFactory.GetGrain<IAlertIndexGrain>(IAlertIndexGrain.DefaultKey).UpsertAsync(headers);
        }
        else if (_indexDirty && S.Current is { } current)
        {
            _indexDirty = false;
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

    private void AddDelivery(AlertRecord alert, DeliveryAttempt attempt)
    {
        alert.Deliveries.Add(attempt);
        if (alert.Deliveries.Count > _options.MaxDeliveryLogEntries) alert.Deliveries.RemoveAt(0);
        _dirty = true;
    }

    private void PublishFeed()
    {
        if (_feed.Count == 0) return;
        var events = _feed.ToArray();
        _feed.Clear();
        SiloAddress? deliveredOn = null;
        if (localFeed is not null)
        {
            localFeed.Publish(events); // this silo's SSE clients, within this turn
            deliveredOn = localFeed.Silo;
        }
        GrainFactory.GetGrain<IAlertBroadcastGrain>(IAlertBroadcastGrain.DefaultKey).PublishAsync(events, deliveredOn).Ignore();
    }

    // ---- operator actions ----------------------------------------------------------------------

    public Task<AlertDetail?> GetAsync(string alertId) => Task.FromResult(Find(alertId)?.ToDetail());

    public async Task<AlertActionResult> AcknowledgeAsync(string alertId, string actor, string? reason)
    {
        var alert = Find(alertId);
        if (alert is null) return NotFound(alertId);
        if (alert.State != AlertState.Open) return Conflict(alert, $"The alert is {alert.State.ToString().ToLowerInvariant()}; only an open alert can be acknowledged.");
        alert.State = AlertState.Acknowledged;
        alert.AcknowledgedAt = Now;
        alert.AcknowledgedBy = actor;
        Record(alert, AlertEventType.Acknowledged, actor, reason, null, notify: true);
        await AfterChangeAsync(persistNow: true);
        return Done(alert);
    }

    public async Task<AlertActionResult> ResolveAsync(string alertId, string actor, string? reason)
    {
        var alert = Find(alertId);
        if (alert is null) return NotFound(alertId);
        if (alert.State == AlertState.Resolved) return Conflict(alert, "The alert is already resolved.");
        Resolve(alert, actor, reason);
        await AfterChangeAsync(persistNow: true);
        return Done(alert);
    }

    public async Task<AlertActionResult> CommentAsync(string alertId, string actor, string text)
    {
        var alert = Find(alertId);
        if (alert is null) return NotFound(alertId);
        Record(alert, AlertEventType.Commented, actor, text, null, notify: false);
        await AfterChangeAsync(persistNow: true);
        await GrainFactory.GetGrain<IAlertIndexGrain>(IAlertIndexGrain.DefaultKey).UpsertAsync([alert.ToHeader()]);
        return Done(alert);
    }

    private void Resolve(AlertRecord alert, string actor, string? reason)
    {
        var now = Now;
        alert.State = AlertState.Resolved;
        alert.ResolvedAt = now;
        alert.ResolvedBy = actor;
        alert.ResolveReason = reason;
        alert.NormalSince = null;
        alert.NormalEventAt = null;
        Record(alert, AlertEventType.Resolved, actor, reason, null, notify: true);
        if (ReferenceEquals(S.Current, alert)) S.Current = null;
        S.Archive.Add(alert);
        while (S.Archive.Count > _options.ArchivePerKey) S.Archive.RemoveAt(0);
    }

    public Task RecordDeliveryAsync(string alertId, DeliveryAttempt attempt)
    {
        if (Find(alertId) is { } alert) AddDelivery(alert, attempt);
        return Task.CompletedTask;
    }

    public Task WakeAsync() => Task.CompletedTask;

    private AlertRecord? Find(string id)
    {
        if (S.Current?.Id == id) return S.Current;
        for (var i = S.Archive.Count - 1; i >= 0; i--)
        {
            if (S.Archive[i].Id == id) return S.Archive[i];
        }
        return null;
    }

    private static AlertActionResult Done(AlertRecord a) => new() { Status = AlertActionStatus.Done, Alert = a.ToDetail() };
    private static AlertActionResult NotFound(string id) => new() { Status = AlertActionStatus.NotFound, Message = $"No alert '{id}'." };
    private static AlertActionResult Conflict(AlertRecord a, string message) => new() { Status = AlertActionStatus.Conflict, Alert = a.ToDetail(), Message = message };

    // ---- automatic resolution --------------------------------------------------------------------

    private DateTime? LifecycleDue()
    {
        if (S.Current is not { } a) return null;
        var quiet = a.LastSignalAt + _options.QuietResolveAfter;
        return a.NormalSince is { } normal && normal + _options.AutoResolveAfter < quiet ? normal + _options.AutoResolveAfter : quiet;
    }

    private void ScheduleLifecycle()
    {
        if (_lifecycleTimer is null) return;
        if (LifecycleDue() is not { } due)
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
        if (S.Current is { } a && LifecycleDue() is { } due && due <= Now)
        {
            var reason = a.NormalSince is { } normal
                ? $"Automatically resolved: normal since {normal:O} (for {_options.AutoResolveAfter})."
                : $"Automatically resolved: no signal for {_options.QuietResolveAfter}.";
            Resolve(a, System, reason);
            await AfterChangeAsync(persistNow: true);
            return;
        }
        ScheduleLifecycle();
    }

    // ---- persistence -----------------------------------------------------------------------------

    private Task PersistIfDirtyAsync(CancellationToken cancellationToken) => _dirty ? WriteAsync() : Task.CompletedTask;

    private async Task WriteAsync()
    {
        _dirty = false;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            _dirty = true;
            throw;
        }
    }
}
