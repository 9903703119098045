using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.Grains.Alerts;

namespace AiOps.UnitTests;

/// <summary>The alert lifecycle as pure transitions, driven by a hand-moved clock.</summary>
public sealed class AlertLifecycleTests
{
    private static readonly DateTime T0 = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
    private DateTime _now = T0;
    private readonly AlertKeyState _state = new();
    private readonly AlertingOptions _options = new()
    {
        AutoResolveAfter = TimeSpan.FromMinutes(10),
        QuietResolveAfter = TimeSpan.FromHours(24),
        RetriggerFeedInterval = TimeSpan.FromSeconds(1),
        ArchivePerKey = 3,
        MaxHistoryEntries = 5,
    };

    private AlertLifecycle NewLifecycle() => new(_state, _options, () => _now);

    private static AlertSignal Signal(bool firing, double score = 0.9, DateTime? at = null, double? money = null) => new()
    {
        EntityKind = EntityKind.Model,
        EntityId = "m1",
        Metric = "latency_ms",
        Kind = AlertKind.MetricAnomaly,
        Firing = firing,
        At = at ?? T0,
        Score = firing ? score : 0,
        Value = 250,
        Expected = 40,
        MoneyAtRisk = money,
        Summary = firing ? "latency anomalous" : "normal",
    };

    [Fact]
    public void AFiringSignalOpensOneAlertAndLaterOnesRetriggerIt()
    {
        var l = NewLifecycle();
        l.Apply(Signal(true, 0.9));
        var opened = Assert.Single(l.Opened);
        Assert.Equal(AlertState.Open, opened.State);
        Assert.Equal(AlertSeverity.Medium, opened.Severity); // 0.9: medium (≥ 0.85, < 0.97)
        Assert.Equal(AlertEventType.Opened, Assert.Single(l.Notifications).Entry.Type);
        l.Notifications.Clear();

        _now = T0.AddSeconds(2);
        l.Apply(Signal(true, 0.9, T0.AddSeconds(2)));
        Assert.Same(opened, l.Current);
        Assert.Equal(1, opened.RetriggerCount);
        Assert.Empty(l.Notifications);                        // a re-trigger is not notified…
        Assert.Equal(AlertEventType.Retriggered, Assert.Single(l.Feed).Type); // …only shown live
        Assert.True(l.IndexDirty);
    }

    [Fact]
    public void AHigherSeverityEscalatesAndIsNotified()
    {
        var l = NewLifecycle();
        l.Apply(Signal(true, 0.9));
        l.Notifications.Clear();
        l.Apply(Signal(true, 0.999));
        Assert.Equal(AlertSeverity.Critical, l.Current!.Severity);
        Assert.Equal(AlertEventType.Escalated, Assert.Single(l.Notifications).Entry.Type);
        l.Notifications.Clear();
        l.Apply(Signal(true, 0.9)); // severity never drops while active
        Assert.Equal(AlertSeverity.Critical, l.Current!.Severity);
        Assert.Empty(l.Notifications);
    }

    [Fact]
    public void NormalForTheAutoResolveDelayResolvesAndAFiringInBetweenRestartsTheWait()
    {
        var l = NewLifecycle();
        l.Apply(Signal(true));
        _now = T0.AddMinutes(1);
        l.Apply(Signal(false, at: T0.AddMinutes(1)));
        Assert.Equal(T0.AddMinutes(11), l.Due());

        _now = T0.AddMinutes(5);
        l.Apply(Signal(true, at: T0.AddMinutes(5))); // fires again: no longer normal
        Assert.Null(l.Current!.NormalSince);
        Assert.Equal(T0.AddMinutes(5).AddHours(24), l.Due()); // only the quiet rule is left

        _now = T0.AddMinutes(6);
        l.Apply(Signal(false, at: T0.AddMinutes(6)));
        _now = T0.AddMinutes(15);
        Assert.False(l.ResolveIfDue());
        _now = T0.AddMinutes(16);
        var alert = l.Current!;
        Assert.True(l.ResolveIfDue());
        Assert.Null(l.Current);
        Assert.Equal(AlertState.Resolved, alert.State);
        Assert.Equal(AlertLifecycle.System, alert.ResolvedBy);
        Assert.Contains(alert, _state.Archive);
    }

    [Fact]
    public void ANormalSignalOlderThanTheLatestFiringPointIsStale()
    {
        var l = NewLifecycle();
        l.Apply(Signal(true, at: T0.AddMinutes(2)));
        l.Apply(Signal(false, at: T0.AddMinutes(1))); // arrived late, describes an earlier moment
        Assert.Null(l.Current!.NormalSince);
    }

    [Fact]
    public void AnAlertWithNoSignalForTheQuietPeriodResolvesItself()
    {
        var l = NewLifecycle();
        l.Apply(Signal(true));
        _now = T0.AddHours(24);
        Assert.True(l.ResolveIfDue());
        Assert.Contains("no signal", _state.Archive[^1].ResolveReason);
    }

    [Fact]
    public void OnlyAnOpenAlertCanBeAcknowledgedAndAResolvedOneNotAgain()
    {
        var l = NewLifecycle();
        l.Apply(Signal(true));
        var id = l.Current!.Id;
        Assert.Equal(AlertActionStatus.NotFound, l.Acknowledge("nope", "op", null).Status);
        Assert.Equal(AlertActionStatus.Done, l.Acknowledge(id, "op", "looking").Status);
        Assert.Equal(AlertState.Acknowledged, l.Current!.State);
        Assert.Equal(AlertActionStatus.Conflict, l.Acknowledge(id, "op", null).Status);
        Assert.Equal(AlertActionStatus.Done, l.Resolve(id, "op", "fixed").Status);
        Assert.Equal(AlertActionStatus.Conflict, l.Resolve(id, "op", null).Status);
        Assert.Equal(AlertActionStatus.Done, l.Comment(id, "op", "post-mortem").Status); // comments stay possible
        Assert.Equal([AlertEventType.Opened, AlertEventType.Acknowledged, AlertEventType.Resolved, AlertEventType.Commented],
            l.Find(id)!.History.Select(h => h.Type));
    }

    [Fact]
    public void AFiringAfterAResolveOpensANewAlertAndTheArchiveIsBounded()
    {
        var l = NewLifecycle();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            _now = T0.AddMinutes(i);
            l.Apply(Signal(true, at: _now));
            ids.Add(l.Current!.Id);
            l.Resolve(l.Current.Id, "op", null);
        }
        Assert.Equal(5, ids.Distinct().Count());
        Assert.Equal(ids.TakeLast(3), _state.Archive.Select(a => a.Id));
    }

    [Fact]
    public void HistoryIsBoundedButKeepsTheOpening()
    {
        var l = NewLifecycle();
        l.Apply(Signal(true));
        var id = l.Current!.Id;
        for (var i = 0; i < 10; i++) l.Comment(id, "op", $"c{i}");
        var history = l.Find(id)!.History;
        Assert.Equal(5, history.Count);
        Assert.Equal(AlertEventType.Opened, history[0].Type);
        Assert.Equal("c9", history[^1].Text);
    }

    [Fact]
    public void ASilencedAlertReTriggeringAfterItsSilenceEndedIsNotifiedAgain()
    {
        var l = NewLifecycle();
        l.Apply(Signal(true));
        var silence = new Silence
        {
            Id = "s1", Matchers = [], CreatedBy = "op", Reason = "deploy", CreatedAt = T0, StartsAt = T0, ExpiresAt = T0.AddMinutes(30),
        };
        AlertLifecycle.ApplySilence(l.Current!, silence);
        l.Notifications.Clear();

        _now = T0.AddMinutes(10);
        l.Apply(Signal(true, at: _now));
        Assert.True(l.RecheckSilence); // a re-check at most once per RetriggerFeedInterval
        l.SilenceRechecked(silence);    // still silenced
        Assert.Empty(l.Notifications);

        _now = T0.AddMinutes(31);       // past the silence's end
        l.Apply(Signal(true, at: _now));
        Assert.True(l.RecheckSilence);
        l.SilenceRechecked(null);
        var (_, entry, _) = Assert.Single(l.Notifications);
        Assert.Equal(AlertEventType.Retriggered, entry.Type);
        Assert.False(l.RecheckSilence);
    }

    [Fact]
    public void ATestAlertResolvesItselfAfterTheAutoResolveDelay()
    {
        var l = NewLifecycle();
        l.Apply(Signal(true), test: true);
        Assert.True(l.Current!.Test);
        Assert.Equal(T0.AddMinutes(10), l.Due());
    }
}
