using AiOps.Abstractions.Alerts;

namespace AiOps.Grains.Alerts;

/// <summary>
/// The lifecycle of the alerts of one key, as pure state transitions over <see cref="AlertKeyState"/>: open on a firing
/// signal, re-trigger and escalate while active, acknowledge, resolve (by an operator, or automatically once the series
/// has been normal for <see cref="AlertingOptions.AutoResolveAfter"/> or silent for <see cref="AlertingOptions.QuietResolveAfter"/>),
/// and the silence bookkeeping. No I/O: the grain routes, notifies, publishes and persists what this class reports in
/// <see cref="Notifications"/>, <see cref="Feed"/> and the flags, and calls it with the time of its clock.
/// </summary>
public sealed class AlertLifecycle(AlertKeyState state, AlertingOptions options, Func<DateTime> clock)
{
    public const string System = "system";

    private DateTime _lastRetriggerFeed;
    private DateTime _lastSilenceCheck;

    /// <summary>Transitions to route (silences, subscriptions) and notify, in order.</summary>
    public List<(AlertRecord Alert, AlertHistoryEntry Entry, long? ReceivedAtMs)> Notifications { get; } = [];

    /// <summary>Live-feed events that are not notified (re-triggers, comments).</summary>
    public List<AlertFeedEvent> Feed { get; } = [];

    /// <summary>Alerts opened since the owner last looked (for metrics).</summary>
    public List<AlertRecord> Opened { get; } = [];

    /// <summary>State changed and must be written (behind, or at once for operator actions).</summary>
    public bool Dirty { get; set; }

    /// <summary>The active alert's header changed without a transition (the index is told in a batch).</summary>
    public bool IndexDirty { get; set; }

    /// <summary>A silenced alert re-triggered past (or possibly past) its silence: the owner must look the silence up again.</summary>
    public bool RecheckSilence { get; set; }

    public AlertRecord? Current => state.Current;

    // ---- signals -----------------------------------------------------------------------------------

    public void Apply(AlertSignal s, bool test = false)
    {
        var now = clock();
        var current = state.Current;
        if (!s.Firing)
        {
            if (current is null) return;
            current.LastSignalAt = now;
            // Event time decides between signals that arrive out of order: a "normal" older than the latest firing point is stale.
            if (s.At < current.LastSeenAt) return;
            current.NormalSince ??= now;
            current.NormalEventAt = s.At;
            Dirty = true;
            return;
        }

        var severity = SeverityRule.Of(s, options.Severity);
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
            if (s.Reason is not null) current.Reason = s.Reason;
        }
        current.UpdatedAt = now;
        current.Revision++;
        Dirty = true;
        IndexDirty = true;

        if (severity > current.Severity)
        {
            current.Severity = severity;
            Record(current, AlertEventType.Escalated, System, $"Severity raised to {severity.ToString().ToLowerInvariant()}: {s.Summary}", severity, notify: true, s.ReceivedAtMs);
            return;
        }
        // A silenced alert re-checks its silence on re-trigger (at once past the silence's end, else at most once per
        // RetriggerFeedInterval, which also catches silences ended early): if none applies any more, it is notified.
        if (current.Silenced && (now >= current.SilencedUntil || now - _lastSilenceCheck >= options.RetriggerFeedInterval))
            RecheckSilence = true;
        if (now - _lastRetriggerFeed >= options.RetriggerFeedInterval)
        {
            _lastRetriggerFeed = now;
            Feed.Add(FeedEvent(current, AlertEventType.Retriggered, SortableId.New(now), now, System, null, s.ReceivedAtMs));
        }
    }

    private void Open(AlertSignal s, AlertSeverity severity, DateTime now, bool test)
    {
        var alert = new AlertRecord
        {
            Id = SortableId.New(now),
            Key = AlertKey.Of(s).ToString(),
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
            Reason = s.Reason,
        };
        state.Current = alert;
        Opened.Add(alert);
        Record(alert, AlertEventType.Opened, System, s.Summary, severity, notify: true, s.ReceivedAtMs);
    }

    // ---- silences -----------------------------------------------------------------------------------

    /// <summary>What routing found for a notified transition: the silence that applies now, if any.</summary>
    public static void ApplySilence(AlertRecord alert, Silence? silence)
    {
        alert.Silenced = silence is not null;
        alert.SilenceId = silence?.Id;
        alert.SilencedUntil = silence?.EffectiveEnd;
    }

    /// <summary>The result of a re-check asked for by <see cref="RecheckSilence"/>: still silenced, or notified as re-triggered.</summary>
    public void SilenceRechecked(Silence? silence)
    {
        RecheckSilence = false;
        if (state.Current is not { Silenced: true } current) return;
        _lastSilenceCheck = clock();
        if (silence is not null)
        {
            current.SilenceId = silence.Id;
            current.SilencedUntil = silence.EffectiveEnd;
            return;
        }
        Record(current, AlertEventType.Retriggered, System, "Re-triggered after its silence ended.", current.Severity, notify: true);
    }

    // ---- operator actions -----------------------------------------------------------------------------

    public AlertActionResult Acknowledge(string alertId, string actor, string? reason)
    {
        var alert = Find(alertId);
        if (alert is null) return NotFound(alertId);
        if (alert.State != AlertState.Open) return Conflict(alert, $"The alert is {alert.State.ToString().ToLowerInvariant()}; only an open alert can be acknowledged.");
        alert.State = AlertState.Acknowledged;
        alert.AcknowledgedAt = clock();
        alert.AcknowledgedBy = actor;
        Record(alert, AlertEventType.Acknowledged, actor, reason, null, notify: true);
        return Done(alert);
    }

    public AlertActionResult Resolve(string alertId, string actor, string? reason)
    {
        var alert = Find(alertId);
        if (alert is null) return NotFound(alertId);
        if (alert.State == AlertState.Resolved) return Conflict(alert, "The alert is already resolved.");
        Resolve(alert, actor, reason);
        return Done(alert);
    }

    public AlertActionResult Comment(string alertId, string actor, string text)
    {
        var alert = Find(alertId);
        if (alert is null) return NotFound(alertId);
        Record(alert, AlertEventType.Commented, actor, text, null, notify: false);
        return Done(alert);
    }

    private void Resolve(AlertRecord alert, string actor, string? reason)
    {
        alert.State = AlertState.Resolved;
        alert.ResolvedAt = clock();
        alert.ResolvedBy = actor;
        alert.ResolveReason = reason;
        alert.NormalSince = null;
        alert.NormalEventAt = null;
        Record(alert, AlertEventType.Resolved, actor, reason, null, notify: true);
        if (ReferenceEquals(state.Current, alert)) state.Current = null;
        state.Archive.Add(alert);
        while (state.Archive.Count > options.ArchivePerKey) state.Archive.RemoveAt(0);
    }

    public AlertRecord? Find(string id)
    {
        if (state.Current?.Id == id) return state.Current;
        for (var i = state.Archive.Count - 1; i >= 0; i--)
        {
            if (state.Archive[i].Id == id) return state.Archive[i];
        }
        return null;
    }

    // ---- automatic resolution ---------------------------------------------------------------------------

    /// <summary>When the active alert resolves by itself if nothing changes (null: no active alert).</summary>
    public DateTime? Due()
    {
        if (state.Current is not { } a) return null;
        var quiet = a.LastSignalAt + options.QuietResolveAfter;
        return a.NormalSince is { } normal && normal + options.AutoResolveAfter < quiet ? normal + options.AutoResolveAfter : quiet;
    }

    /// <summary>Resolves the active alert if its auto-resolve moment has come; returns whether it did.</summary>
    public bool ResolveIfDue()
    {
        if (state.Current is not { } a || Due() is not { } due || due > clock()) return false;
        var reason = a.NormalSince is { } normal
            ? $"Automatically resolved: normal since {normal:O} (for {options.AutoResolveAfter})."
            : $"Automatically resolved: no signal for {options.QuietResolveAfter}.";
        Resolve(a, System, reason);
        return true;
    }

    // ---- records ----------------------------------------------------------------------------------------

    public void AddDelivery(AlertRecord alert, DeliveryAttempt attempt)
    {
        alert.Deliveries.Add(attempt);
        if (alert.Deliveries.Count > options.MaxDeliveryLogEntries) alert.Deliveries.RemoveAt(0);
        Dirty = true;
    }

    private void Record(AlertRecord alert, AlertEventType type, string actor, string? text, AlertSeverity? severity, bool notify, long? receivedAtMs = null)
    {
        var now = clock();
        var entry = new AlertHistoryEntry { EventId = SortableId.New(now), Type = type, At = now, Actor = actor, Text = text, Severity = severity };
        alert.History.Add(entry);
        if (alert.History.Count > options.MaxHistoryEntries) alert.History.RemoveAt(1); // keep "opened"
        alert.UpdatedAt = now;
        alert.Revision++;
        Dirty = true;
        if (notify) Notifications.Add((alert, entry, receivedAtMs));
        else Feed.Add(FeedEvent(alert, type, entry.EventId, now, actor, text, receivedAtMs));
    }

    public static AlertFeedEvent FeedEvent(AlertRecord alert, AlertEventType type, string eventId, DateTime at, string? actor, string? text, long? receivedAtMs) => new()
    {
        EventId = eventId,
        Type = type,
        At = at,
        Alert = alert.ToHeader(),
        Actor = actor,
        Text = text,
        ReceivedAtMs = receivedAtMs,
    };

    private static AlertActionResult Done(AlertRecord a) => new() { Status = AlertActionStatus.Done, Alert = a.ToDetail() };
    private static AlertActionResult NotFound(string id) => new() { Status = AlertActionStatus.NotFound, Message = $"No alert '{id}'." };
    private static AlertActionResult Conflict(AlertRecord a, string message) => new() { Status = AlertActionStatus.Conflict, Alert = a.ToDetail(), Message = message };
}
