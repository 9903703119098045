using AiOps.Abstractions.Alerts;
namespace AiOps.Abstractions;

[GenerateSerializer, Immutable, Alias("aiops.MetricInfo")]
public sealed record MetricInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string Unit,
    [property: Id(2)] string Aggregation,
    [property: Id(3)] long Points,
    [property: Id(4)] double LastValue,
    [property: Id(5)] DateTime LastTimestamp,
    [property: Id(6)] double Total);

[GenerateSerializer, Immutable, Alias("aiops.PipelineStats")]
public sealed record PipelineStats
{
    [Id(0)] public long RunsTotal { get; init; }
    [Id(1)] public long SuccessesTotal { get; init; }
    [Id(2)] public long FailuresTotal { get; init; }
    [Id(3)] public long RunsMonthToDate { get; init; }
    [Id(4)] public long FailuresMonthToDate { get; init; }
    [Id(5)] public double? FailureRateMonthToDate { get; init; }
    [Id(6)] public DateTime? LastRunAt { get; init; }
    [Id(7)] public DateTime? LastSuccessAt { get; init; }
    [Id(8)] public DateTime? LastFailureAt { get; init; }
    [Id(9)] public double? LastDurationSeconds { get; init; }
    [Id(10)] public double? MeanDurationSeconds { get; init; }
    [Id(11)] public double RowsInTotal { get; init; }
    [Id(12)] public double RowsOutTotal { get; init; }
    [Id(13)] public double? FreshnessSlaSeconds { get; init; }
    [Id(14)] public double? SecondsSinceLastSuccess { get; init; }
    /// <summary>True/false against the SLA; null when no SLA is set and no run has succeeded.</summary>
    [Id(15)] public bool? Fresh { get; init; }
    [Id(16)] public double DataQualityFailuresTotal { get; init; }
    /// <summary>Error message of the latest failed run (OpenLineage <c>errorMessage</c> facet, or the <c>error</c> attribute).</summary>
    [Id(17)] public string? LastError { get; init; }
    [Id(18)] public string? LastErrorRunId { get; init; }
    [Id(19)] public double AbortedTotal { get; init; }
    [Id(20)] public double StartedTotal { get; init; }
}

[GenerateSerializer, Immutable, Alias("aiops.ModelVersionInfo")]
public sealed record ModelVersionInfo(
    [property: Id(0)] string Version,
    [property: Id(1)] DateTime FirstSeen,
    [property: Id(2)] DateTime LastSeen);

[GenerateSerializer, Immutable, Alias("aiops.ModelStats")]
public sealed record ModelStats
{
    [Id(0)] public string? CurrentVersion { get; init; }
    [Id(1)] public IReadOnlyList<ModelVersionInfo> Versions { get; init; } = [];
    [Id(2)] public double PredictionsTotal { get; init; }
    [Id(3)] public double PredictionsMonthToDate { get; init; }
    [Id(4)] public double ErrorsTotal { get; init; }
    [Id(5)] public double ErrorsMonthToDate { get; init; }
    [Id(6)] public double? ErrorRateMonthToDate { get; init; }
    [Id(7)] public double? LatencyMsLast { get; init; }
    [Id(8)] public double? LatencyMsRecentMean { get; init; }
    [Id(9)] public double? AccuracyLast { get; init; }
    [Id(10)] public double? DriftLast { get; init; }
    [Id(11)] public double ValueTotal { get; init; }
    [Id(12)] public double ValueMonthToDate { get; init; }
    [Id(13)] public bool Healthy { get; init; }
    [Id(14)] public IReadOnlyList<string> HealthReasons { get; init; } = [];
}

[GenerateSerializer, Immutable, Alias("aiops.AmountByKey")]
public sealed record AmountByKey([property: Id(0)] string Key, [property: Id(1)] double Amount);

[GenerateSerializer, Immutable, Alias("aiops.CostCenterStats")]
public sealed record CostCenterStats
{
    [Id(0)] public string Currency { get; init; } = "USD";
    [Id(1)] public double? MonthlyBudget { get; init; }
    [Id(2)] public double SpendMonthToDate { get; init; }
    [Id(3)] public double SpendPreviousMonth { get; init; }
    [Id(4)] public double? BudgetUsedRatio { get; init; }
    [Id(5)] public double SpendTotal { get; init; }
    /// <summary>Spend per UTC day ("yyyy-MM-dd"), oldest first, for the retained days.</summary>
    [Id(6)] public IReadOnlyList<AmountByKey> SpendByDay { get; init; } = [];
    [Id(7)] public IReadOnlyList<AmountByKey> SpendByServiceMonthToDate { get; init; } = [];
    [Id(8)] public IReadOnlyList<AmountByKey> SpendByResourceMonthToDate { get; init; } = [];
}

/// <summary>An anomaly the entity's detector flagged and that has not yet returned to normal.</summary>
[GenerateSerializer, Immutable, Alias("aiops.OpenAnomaly")]
public sealed record OpenAnomaly(
    [property: Id(0)] string Metric,
    [property: Id(1)] DateTime FirstAt,
    [property: Id(2)] DateTime LastAt,
    [property: Id(3)] double MaxScore,
    [property: Id(4)] double LastValue,
    [property: Id(5)] int Points,
    [property: Id(6)] AnomalyReason? Reason = null);

[GenerateSerializer, Immutable, Alias("aiops.EntitySummary")]
public sealed record EntitySummary
{
    [Id(0)] public required EntityKind Kind { get; init; }
    [Id(1)] public required string Id { get; init; }
    [Id(2)] public bool Registered { get; init; }
    [Id(3)] public EntityMetadata Metadata { get; init; } = EntityMetadata.Empty;
    [Id(4)] public DateTime? FirstSeen { get; init; }
    [Id(5)] public DateTime? LastSeen { get; init; }
    [Id(6)] public long EventsApplied { get; init; }
    [Id(7)] public long DuplicatesDropped { get; init; }
    [Id(8)] public IReadOnlyList<MetricInfo> Metrics { get; init; } = [];
    [Id(9)] public double CostMonthToDate { get; init; }
    [Id(10)] public PipelineStats? Pipeline { get; init; }
    [Id(11)] public ModelStats? Model { get; init; }
    [Id(12)] public CostCenterStats? CostCenter { get; init; }
    [Id(13)] public IReadOnlyList<OpenAnomaly> OpenAnomalies { get; init; } = [];
    [Id(14)] public DatasetStats? Dataset { get; init; }
}

/// <summary>Resolution of a series read.</summary>
public enum SeriesResolution
{
    Raw = 0,
    Hour = 1,
    Day = 2,
}

[GenerateSerializer, Immutable, Alias("aiops.SeriesPoint")]
public sealed record SeriesPoint(
    [property: Id(0)] DateTime Timestamp,
    [property: Id(1)] double Value,
    [property: Id(2)] long Count,
    [property: Id(3)] double? Min,
    [property: Id(4)] double? Max,
    [property: Id(5)] double? AnomalyScore = null);

[GenerateSerializer, Immutable, Alias("aiops.SeriesView")]
public sealed record SeriesView(
    [property: Id(0)] string Metric,
    [property: Id(1)] string Resolution,
    [property: Id(2)] string Aggregation,
    [property: Id(3)] IReadOnlyList<SeriesPoint> Points);
