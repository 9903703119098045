namespace AiOps.Abstractions.Alerts;

/// <summary>The kinds of alert the platform raises.</summary>
public enum AlertKind
{
    /// <summary>The detector scored a metric point as anomalous (any metric other than spend).</summary>
    MetricAnomaly = 0,
    /// <summary>The detector scored a spend (<c>cost</c>) point as anomalous.</summary>
    SpendAnomaly = 1,
    /// <summary>The month-end spend forecast exceeds the cost center's budget.</summary>
    ForecastBudgetBreach = 2,
    /// <summary>Actual month-to-date spend crossed 50, 80 or 100% of budget.</summary>
    BudgetThreshold = 3,
    /// <summary>A pipeline run failed.</summary>
    PipelineFailure = 4,
    /// <summary>A pipeline's last success is older than its freshness SLA.</summary>
    FreshnessBreach = 5,
    /// <summary>A model's error rate is above its limit.</summary>
    ModelErrorRate = 6,
    /// <summary>A model's latency is above its limit.</summary>
    ModelLatency = 7,
    /// <summary>An entity sent no telemetry for longer than its <c>maxSilenceSeconds</c>.</summary>
    MissingTelemetry = 8,
}

/// <summary>What a detector's alarm is about: the view of the series that found it unusual (anomaly alerts only).</summary>
public enum AnomalyReason
{
    /// <summary>The point itself is far from what its recent values (and the same time a season ago) predict: a spike, a dip, a glitch.</summary>
    Point = 1,
    /// <summary>The series keeps departing from its usual cycle (daily or weekly): a pattern changed or is missing.</summary>
    Pattern = 2,
    /// <summary>The recent level is unusual for the series, or beyond anything in its history: a level shift, a trend, a new low.</summary>
    Level = 3,
}

/// <summary>
/// What an entity grain tells the alerting path: a condition is firing (or has returned to normal) for
/// (entity, metric, kind). The alerting side owns dedupe, lifecycle, severity, silences and notification.
/// </summary>
[GenerateSerializer, Immutable, Alias("aiops.AlertSignal")]
public sealed record AlertSignal
{
    [Id(0)] public required EntityKind EntityKind { get; init; }
    [Id(1)] public required string EntityId { get; init; }
    /// <summary>Metric concerned (for budget/freshness kinds: the metric the rule reads, e.g. "cost", "run.success").</summary>
    [Id(2)] public required string Metric { get; init; }
    [Id(3)] public required AlertKind Kind { get; init; }
    /// <summary>True: the condition holds now. False: the series is back to normal at <see cref="At"/>.</summary>
    [Id(4)] public required bool Firing { get; init; }
    /// <summary>When the triggering point happened (event time).</summary>
    [Id(5)] public required DateTime At { get; init; }
    /// <summary>Anomaly score in [0,1] (1 for rule-based kinds that fire).</summary>
    [Id(6)] public double Score { get; init; }
    [Id(7)] public double Value { get; init; }
    /// <summary>What was expected (forecast/median) where known.</summary>
    [Id(8)] public double? Expected { get; init; }
    /// <summary>Money at risk in the cost center's currency, where known (spend anomalies, budget kinds).</summary>
    [Id(9)] public double? MoneyAtRisk { get; init; }
    /// <summary>Human-readable one-liner: what happened.</summary>
    [Id(10)] public string? Summary { get; init; }
    /// <summary>For budget thresholds: 50, 80 or 100.</summary>
    [Id(11)] public int? ThresholdPercent { get; init; }
    /// <summary>When the server received the request carrying the point (Unix ms), for end-to-end latency.</summary>
    [Id(12)] public long? ReceivedAtMs { get; init; }
    /// <summary>Anomaly alerts: what the detector found unusual (see <see cref="AnomalyReason"/>).</summary>
    [Id(13)] public AnomalyReason? Reason { get; init; }
}
