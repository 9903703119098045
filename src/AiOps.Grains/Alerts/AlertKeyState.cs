using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;

namespace AiOps.Grains.Alerts;

/// <summary>Persisted state of an alert key: the active alert (if any) and a bounded archive of resolved ones.</summary>
public sealed class AlertKeyState
{
    public AlertRecord? Current { get; set; }
    public List<AlertRecord> Archive { get; set; } = [];
}

/// <summary>One alert, as stored (mutable, System.Text.Json-friendly). Mapped to wire records on the way out.</summary>
public sealed class AlertRecord
{
    public string Id { get; set; } = "";
    public string Key { get; set; } = "";
    public AlertKind Kind { get; set; }
    public EntityKind EntityKind { get; set; }
    public string EntityId { get; set; } = "";
    public string Metric { get; set; } = "";
    public AlertState State { get; set; }
    public AlertSeverity Severity { get; set; }
    public bool Test { get; set; }
    public DateTime OpenedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    /// <summary>Event time of the first and latest firing points.</summary>
    public DateTime FirstSeenAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    /// <summary>Server time of the latest signal (firing or not), for the quiet-resolve rule.</summary>
    public DateTime LastSignalAt { get; set; }
    /// <summary>Server time since which the series is normal (a Firing=false signal, no firing since).</summary>
    public DateTime? NormalSince { get; set; }
    /// <summary>Event time of the "normal" signal behind <see cref="NormalSince"/> (orders late arrivals).</summary>
    public DateTime? NormalEventAt { get; set; }
    public int RetriggerCount { get; set; }
    public double MaxScore { get; set; }
    public double LastScore { get; set; }
    public double LastValue { get; set; }
    public double? Expected { get; set; }
    public double? MoneyAtRisk { get; set; }
    public int? ThresholdPercent { get; set; }
    public string? Summary { get; set; }
    public AnomalyReason? Reason { get; set; }
    public bool Silenced { get; set; }
    public string? SilenceId { get; set; }
    public DateTime? SilencedUntil { get; set; }
    public DateTime? AcknowledgedAt { get; set; }
    public string? AcknowledgedBy { get; set; }
    public DateTime? ResolvedAt { get; set; }
    public string? ResolvedBy { get; set; }
    public string? ResolveReason { get; set; }
    public long Revision { get; set; }
    public List<AlertHistoryEntry> History { get; set; } = [];
    public List<DeliveryAttempt> Deliveries { get; set; } = [];

    public AlertHeader ToHeader() => new()
    {
        Id = Id,
        Key = Key,
        Kind = Kind,
        Severity = Severity,
        State = State,
        EntityKind = EntityKind,
        EntityId = EntityId,
        Metric = Metric,
        OpenedAt = OpenedAt,
        UpdatedAt = UpdatedAt,
        LastSeenAt = LastSeenAt,
        RetriggerCount = RetriggerCount,
        MaxScore = MaxScore,
        LastValue = LastValue,
        Expected = Expected,
        MoneyAtRisk = MoneyAtRisk,
        ThresholdPercent = ThresholdPercent,
        Summary = Summary,
        Reason = Reason,
        Silenced = Silenced,
        SilenceId = SilenceId,
        Test = Test,
        ResolvedAt = ResolvedAt,
        Revision = Revision,
    };

    public AlertDetail ToDetail() => new()
    {
        Alert = ToHeader(),
        AcknowledgedAt = AcknowledgedAt,
        AcknowledgedBy = AcknowledgedBy,
        ResolvedBy = ResolvedBy,
        ResolveReason = ResolveReason,
        History = History.ToArray(),
        Deliveries = Deliveries.ToArray(),
        LastScore = LastScore,
        FirstSeenAt = FirstSeenAt,
    };
}
