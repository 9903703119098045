namespace AiOps.Abstractions;

[GenerateSerializer, Immutable, Alias("aiops.ForecastPointView")]
public sealed record ForecastPointView(
    [property: Id(0)] DateTime Timestamp,
    [property: Id(1)] double Mean,
    [property: Id(2)] double Lo80,
    [property: Id(3)] double Hi80,
    [property: Id(4)] double Lo95,
    [property: Id(5)] double Hi95);

/// <summary>Forecast of month-end spend against the budget.</summary>
[GenerateSerializer, Immutable, Alias("aiops.MonthEndOutlook")]
public sealed record MonthEndOutlook
{
    [Id(0)] public required DateTime MonthEnd { get; init; }
    [Id(1)] public double SpendMonthToDate { get; init; }
    [Id(2)] public double Forecast { get; init; }
    [Id(3)] public double Lo80 { get; init; }
    [Id(4)] public double Hi80 { get; init; }
    [Id(5)] public double Lo95 { get; init; }
    [Id(6)] public double Hi95 { get; init; }
    [Id(7)] public double? Budget { get; init; }
    /// <summary>Probability that month-end spend exceeds the budget (1 once it has).</summary>
    [Id(8)] public double? BreachProbability { get; init; }
    /// <summary>When expected cumulative spend crosses the budget, if it does by month end.</summary>
    [Id(9)] public DateTime? ExpectedBreachAt { get; init; }
    /// <summary>First time the probability of having crossed the budget reaches 50%.</summary>
    [Id(10)] public DateTime? EarliestLikelyBreachAt { get; init; }
}

/// <summary>A cost center's hourly spend forecast with 80% and 95% prediction intervals.</summary>
[GenerateSerializer, Immutable, Alias("aiops.SpendForecast")]
public sealed record SpendForecast
{
    [Id(0)] public required string CostCenterId { get; init; }
    [Id(1)] public required DateTime GeneratedAt { get; init; }
    [Id(2)] public string Currency { get; init; } = "USD";
    [Id(3)] public required string Method { get; init; }
    [Id(4)] public int SeasonalPeriodHours { get; init; }
    [Id(5)] public double BacktestMae { get; init; }
    [Id(6)] public double TrainingMilliseconds { get; init; }
    [Id(7)] public int HistoryHours { get; init; }
    [Id(8)] public string Step { get; init; } = "PT1H";
    [Id(9)] public IReadOnlyList<ForecastPointView> Points { get; init; } = [];
    [Id(10)] public MonthEndOutlook? MonthEnd { get; init; }
}

/// <summary>Why no forecast could be made.</summary>
[GenerateSerializer, Immutable, Alias("aiops.ForecastResult")]
public sealed record ForecastResult([property: Id(0)] SpendForecast? Forecast, [property: Id(1)] string? Problem);
