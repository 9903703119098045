namespace AiOps.Abstractions;

/// <summary>The small summary an entity grain pushes to the value grain (never raw events).</summary>
[GenerateSerializer, Immutable, Alias("aiops.EntityDigest")]
public sealed record EntityDigest
{
    [Id(0)] public required EntityKind Kind { get; init; }
    [Id(1)] public required string Id { get; init; }
    [Id(2)] public string? Name { get; init; }
    [Id(3)] public string? Team { get; init; }
    [Id(4)] public string? CostCenterId { get; init; }
    /// <summary>Month the month-to-date figures belong to, as year*12 + month - 1.</summary>
    [Id(5)] public int MonthKey { get; init; }
    [Id(6)] public double CostMonthToDate { get; init; }
    [Id(7)] public double ValueMonthToDate { get; init; }
    [Id(8)] public double PredictionsMonthToDate { get; init; }
    [Id(9)] public double RunsMonthToDate { get; init; }
    [Id(10)] public double FailuresMonthToDate { get; init; }
    [Id(11)] public double? MonthlyBudget { get; init; }
    [Id(12)] public bool? Fresh { get; init; }
    [Id(13)] public bool? Healthy { get; init; }
    [Id(14)] public long EventsApplied { get; init; }
    [Id(15)] public DateTime? LastSeen { get; init; }
    [Id(16)] public int OpenAnomalies { get; init; }
    [Id(17)] public string? Currency { get; init; }
    [Id(18)] public double? ForecastMonthEnd { get; init; }
}

[GenerateSerializer, Immutable, Alias("aiops.CostDriver")]
public sealed record CostDriver(
    [property: Id(0)] EntityKind Kind,
    [property: Id(1)] string Id,
    [property: Id(2)] string? Name,
    [property: Id(3)] double SpendMonthToDate,
    [property: Id(4)] double Share);

[GenerateSerializer, Immutable, Alias("aiops.TeamValue")]
public sealed record TeamValue(
    [property: Id(0)] string Team,
    [property: Id(1)] double SpendMonthToDate,
    [property: Id(2)] double ValueMonthToDate);

/// <summary>The unified KPIs over all entities.</summary>
[GenerateSerializer, Immutable, Alias("aiops.ValueReport")]
public sealed record ValueReport
{
    [Id(0)] public required string Month { get; init; }
    [Id(1)] public DateTime AsOf { get; init; }
    [Id(2)] public int Pipelines { get; init; }
    [Id(3)] public int Models { get; init; }
    [Id(4)] public int CostCenters { get; init; }
    [Id(5)] public double SpendMonthToDate { get; init; }
    [Id(6)] public double? BudgetMonthly { get; init; }
    [Id(7)] public double? BudgetUsedRatio { get; init; }
    [Id(8)] public double? ForecastMonthEnd { get; init; }
    [Id(9)] public double ValueMonthToDate { get; init; }
    /// <summary>(value − spend) / spend; null while there is no spend.</summary>
    [Id(10)] public double? Roi { get; init; }
    [Id(11)] public double PredictionsMonthToDate { get; init; }
    [Id(12)] public double? CostPer1kPredictions { get; init; }
    [Id(13)] public double PipelineRunsMonthToDate { get; init; }
    [Id(14)] public double? CostPerPipelineRun { get; init; }
    [Id(15)] public double? PipelinesFreshPercent { get; init; }
    [Id(16)] public double? ModelsHealthyPercent { get; init; }
    [Id(17)] public IReadOnlyList<CostDriver> TopCostDrivers { get; init; } = [];
    [Id(18)] public IReadOnlyList<TeamValue> ByTeam { get; init; } = [];
    /// <summary>Active (open or acknowledged) anomaly alerts (metric and spend anomalies), counted in the alert index.</summary>
    [Id(19)] public int OpenAnomalies { get; init; }
    [Id(20)] public long EventsApplied { get; init; }
    [Id(21)] public string Currency { get; init; } = "USD";
    /// <summary>All active alerts, counted in the alert index (the one owner of alert state), and by severity.</summary>
    [Id(22)] public int OpenAlerts { get; init; }
    [Id(23)] public IReadOnlyDictionary<string, int> OpenAlertsBySeverity { get; init; } = new Dictionary<string, int>();
    /// <summary>FOCUS imports: cost per model, pipeline and team of the latest billing periods, with the unallocated share.</summary>
    [Id(24)] public IReadOnlyList<Focus.CostAllocationView> CostAllocation { get; init; } = [];
    /// <summary>Datasets known (OpenLineage inputs and outputs).</summary>
    [Id(25)] public int Datasets { get; init; }
}

[GenerateSerializer, Immutable, Alias("aiops.EntityPage")]
public sealed record EntityPage(
    [property: Id(0)] IReadOnlyList<EntityDigest> Items,
    [property: Id(1)] int Total,
    [property: Id(2)] int Offset,
    [property: Id(3)] int Limit);
