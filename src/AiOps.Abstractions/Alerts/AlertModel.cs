
namespace AiOps.Abstractions.Alerts;

/// <summary>Alert severity, lowest first (so "at least high" is <c>severity &gt;= High</c>).</summary>
public enum AlertSeverity
{
    Low = 0,
    Medium = 1,
    High = 2,
    Critical = 3,
}

/// <summary>Lifecycle state. An open or acknowledged alert is "active"; resolved is final.</summary>
public enum AlertState
{
    Open = 0,
    Acknowledged = 1,
    Resolved = 2,
}

/// <summary>What happened to an alert (history entries, SSE events, webhook events).</summary>
public enum AlertEventType
{
    Opened = 0,
    Retriggered = 1,
    Escalated = 2,
    Acknowledged = 3,
    Resolved = 4,
    Commented = 5,
}

/// <summary>Identity of the condition an alert is about: one active alert per key at most.</summary>
[GenerateSerializer, Immutable, Alias("aiops.AlertKey")]
public sealed record AlertKey(
    [property: Id(0)] EntityKind EntityKind,
    [property: Id(1)] string EntityId,
    [property: Id(2)] string Metric,
    [property: Id(3)] AlertKind Kind)
{
    /// <summary>Grain key form: <c>pipeline/etl-1/run.failure/PipelineFailure</c> (ids and metrics contain no '/').</summary>
    public override string ToString() => $"{EntityKind.ToWire()}/{EntityId}/{Metric}/{Kind}";

    public static AlertKey Of(AlertSignal s) => new(s.EntityKind, s.EntityId, s.Metric, s.Kind);

    public static bool TryParse(string text, out AlertKey key)
    {
        key = null!;
        var parts = text.Split('/');
        if (parts.Length != 4 || !EntityKinds.TryParse(parts[0], out var ek) || !Enum.TryParse<AlertKind>(parts[3], out var kind)) return false;
        key = new AlertKey(ek, parts[1], parts[2], kind);
        return true;
    }
}

/// <summary>Compact view of an alert, as held by the index and shown in lists, SSE events and webhooks.</summary>
[GenerateSerializer, Immutable, Alias("aiops.AlertHeader")]
public sealed record AlertHeader
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Key { get; init; }
    [Id(2)] public required AlertKind Kind { get; init; }
    [Id(3)] public required AlertSeverity Severity { get; init; }
    [Id(4)] public required AlertState State { get; init; }
    [Id(5)] public required EntityKind EntityKind { get; init; }
    [Id(6)] public required string EntityId { get; init; }
    [Id(7)] public required string Metric { get; init; }
    [Id(8)] public required DateTime OpenedAt { get; init; }
    [Id(9)] public required DateTime UpdatedAt { get; init; }
    [Id(10)] public DateTime LastSeenAt { get; init; }
    [Id(11)] public int RetriggerCount { get; init; }
    [Id(12)] public double MaxScore { get; init; }
    [Id(13)] public double LastValue { get; init; }
    [Id(14)] public double? Expected { get; init; }
    [Id(15)] public double? MoneyAtRisk { get; init; }
    [Id(16)] public int? ThresholdPercent { get; init; }
    [Id(17)] public string? Summary { get; init; }
    [Id(18)] public bool Silenced { get; init; }
    [Id(19)] public string? SilenceId { get; init; }
    [Id(20)] public bool Test { get; init; }
    [Id(21)] public DateTime? ResolvedAt { get; init; }
    /// <summary>Monotonic per alert: the index keeps the highest revision it has seen.</summary>
    [Id(22)] public long Revision { get; init; }
    /// <summary>Anomaly alerts: what the detector found unusual at the latest firing point (point, pattern or level).</summary>
    [Id(23)] public AnomalyReason? Reason { get; init; }
}

/// <summary>One entry of an alert's history (who did what, when, why).</summary>
[GenerateSerializer, Immutable, Alias("aiops.AlertHistoryEntry")]
public sealed record AlertHistoryEntry
{
    /// <summary>Event id (sortable, unique); also the SSE id and the basis of webhook delivery ids.</summary>
    [Id(0)] public required string EventId { get; init; }
    [Id(1)] public required AlertEventType Type { get; init; }
    [Id(2)] public required DateTime At { get; init; }
    /// <summary>"system" for automatic changes, otherwise the operator (API key name or the body's "by").</summary>
    [Id(3)] public required string Actor { get; init; }
    [Id(4)] public string? Text { get; init; }
    [Id(5)] public AlertSeverity? Severity { get; init; }
}

/// <summary>One webhook delivery attempt for an alert event.</summary>
[GenerateSerializer, Immutable, Alias("aiops.DeliveryAttempt")]
public sealed record DeliveryAttempt
{
    [Id(0)] public required string DeliveryId { get; init; }
    [Id(1)] public required string SubscriptionId { get; init; }
    [Id(2)] public required string EventId { get; init; }
    [Id(3)] public required AlertEventType EventType { get; init; }
    [Id(4)] public required int Attempt { get; init; }
    [Id(5)] public required DateTime At { get; init; }
    /// <summary>delivered, failed (will retry), gave-up, or skipped-silenced.</summary>
    [Id(6)] public required string Outcome { get; init; }
    [Id(7)] public int? StatusCode { get; init; }
    [Id(8)] public string? Error { get; init; }
    [Id(9)] public double? ElapsedMs { get; init; }
    [Id(10)] public DateTime? NextAttemptAt { get; init; }
}

/// <summary>An alert with its full history and delivery log.</summary>
[GenerateSerializer, Immutable, Alias("aiops.AlertDetail")]
public sealed record AlertDetail
{
    [Id(0)] public required AlertHeader Alert { get; init; }
    [Id(1)] public DateTime? AcknowledgedAt { get; init; }
    [Id(2)] public string? AcknowledgedBy { get; init; }
    [Id(3)] public string? ResolvedBy { get; init; }
    [Id(4)] public string? ResolveReason { get; init; }
    [Id(5)] public required IReadOnlyList<AlertHistoryEntry> History { get; init; }
    [Id(6)] public required IReadOnlyList<DeliveryAttempt> Deliveries { get; init; }
    [Id(7)] public double LastScore { get; init; }
    [Id(8)] public DateTime FirstSeenAt { get; init; }
}

/// <summary>An alert event as broadcast to every silo's live feed (SSE).</summary>
[GenerateSerializer, Immutable, Alias("aiops.AlertFeedEvent")]
public sealed record AlertFeedEvent
{
    [Id(0)] public required string EventId { get; init; }
    [Id(1)] public required AlertEventType Type { get; init; }
    [Id(2)] public required DateTime At { get; init; }
    [Id(3)] public required AlertHeader Alert { get; init; }
    [Id(4)] public string? Actor { get; init; }
    [Id(5)] public string? Text { get; init; }
    /// <summary>The triggering request's receive time (Unix ms), when known: for end-to-end latency measurement.</summary>
    [Id(6)] public long? ReceivedAtMs { get; init; }
}

/// <summary>Result of an operator action on an alert.</summary>
[GenerateSerializer, Immutable, Alias("aiops.AlertActionResult")]
public sealed record AlertActionResult
{
    [Id(0)] public required AlertActionStatus Status { get; init; }
    [Id(1)] public AlertDetail? Alert { get; init; }
    [Id(2)] public string? Message { get; init; }
}

public enum AlertActionStatus
{
    Done = 0,
    NotFound = 1,
    Conflict = 2,
}

/// <summary>Filter for listing alerts from the index. Null fields do not filter.</summary>
[GenerateSerializer, Immutable, Alias("aiops.AlertQuery")]
public sealed record AlertQuery
{
    [Id(0)] public AlertState[]? States { get; init; }
    [Id(1)] public AlertKind[]? Kinds { get; init; }
    [Id(2)] public AlertSeverity[]? Severities { get; init; }
    [Id(3)] public AlertSeverity? MinSeverity { get; init; }
    [Id(4)] public EntityKind? EntityKind { get; init; }
    [Id(5)] public string? EntityId { get; init; }
    [Id(6)] public string? Metric { get; init; }
    [Id(7)] public DateTime? From { get; init; }
    [Id(8)] public DateTime? To { get; init; }
    [Id(9)] public int Offset { get; init; }
    [Id(10)] public int Limit { get; init; } = 100;
    [Id(11)] public bool? Silenced { get; init; }
    /// <summary>Anomaly alerts whose reason is one of these (alerts without a reason never match).</summary>
    [Id(12)] public AnomalyReason[]? Reasons { get; init; }
}

[GenerateSerializer, Immutable, Alias("aiops.AlertPage")]
public sealed record AlertPage(
    [property: Id(0)] IReadOnlyList<AlertHeader> Items,
    [property: Id(1)] int Total,
    [property: Id(2)] int Offset,
    [property: Id(3)] int Limit);

[GenerateSerializer, Immutable, Alias("aiops.OpenAlertCount")]
public sealed record OpenAlertCount(
    [property: Id(0)] AlertKind Kind,
    [property: Id(1)] AlertSeverity Severity,
    [property: Id(2)] int Count);
