using System.Diagnostics;
using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.Grains.Detection;
using AiOps.Grains.Series;
using AiOps.Intelligence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace AiOps.Grains.Entities;

/// <summary>A cost center: spend by day, service and resource, budget, month to date, spend forecast and budget alerts.</summary>
[ImplicitStreamSubscription(StreamNames.CostCenterNamespace)]
[GrainType("costcenter")]
public sealed class CostCenterGrain(
    [PersistentState(StateNames.CostCenter, StorageNames.Entities)] IPersistentState<EntityState> state,
    IOptions<EntityGrainOptions> options,
    TimeProvider time,
    ILogger<CostCenterGrain> logger,
    IngestionProgress progress,
    [PersistentState(StateNames.CostCenterDetectors, StorageNames.Entities)] IPersistentState<DetectorState> models)
    : EntityGrain(state, options, time, logger, progress, models), ICostCenterGrain
{
    private const int TopBreakdown = 20;
    public const int MinForecastHistoryHours = 24;
    public const int MaxForecastHorizonHours = 62 * 24;
    private static readonly int[] BudgetThresholds = [100, 80, 50];

    private readonly ILogger _log = logger;
    private SpendForecast? _forecast;
    private long _forecastAtPoints = -1;
    private IGrainTimer? _forecastTimer;
    private bool _forecastBreachFiring;

    protected override EntityKind Kind => EntityKind.CostCenter;

    protected override SeriesRetention RetentionFor(string metric) =>
        metric == MetricVocabulary.Cost ? SeriesRetention.Spend : SeriesRetention.Default;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        var due = TimeSpan.FromMilliseconds(Math.Min(30_000, Options.ForecastInterval.TotalMilliseconds) * (0.25 + 0.75 * Random.Shared.NextDouble()));
        _forecastTimer = this.RegisterGrainTimer(RefreshForecastAsync, new GrainTimerCreationOptions(due, Options.ForecastInterval));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _forecastTimer?.Dispose();
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    protected override void OnPoint(TelemetryPoint point, MetricSeries series, bool inOrder)
    {
        if (point.Metric == MetricVocabulary.Cost && State.Metadata.Currency is null
            && point.Attribute(MetricVocabulary.Attributes.Currency) is { } currency)
        {
            State.Metadata = State.Metadata with { Currency = currency };
        }
    }

    public Task<ForecastResult> GetForecastAsync(int horizonHours)
    {
        var cost = Find(MetricVocabulary.Cost);
        if (_forecast is not null && cost is not null && _forecastAtPoints == cost.Points && _forecast.Points.Count >= horizonHours
            && _forecast.GeneratedAt > Time.GetUtcNow().UtcDateTime.AddMinutes(-15))
        {
            return Task.FromResult(new ForecastResult(_forecast with { Points = _forecast.Points.Take(horizonHours).ToList() }, null));
        }
        return Task.FromResult(Compute(horizonHours));
    }

    private Task RefreshForecastAsync(CancellationToken cancellationToken)
    {
        var cost = Find(MetricVocabulary.Cost);
        if (cost is null || cost.Points == _forecastAtPoints) return Task.CompletedTask;
        Compute(48);
        return Task.CompletedTask;
    }

    /// <summary>Forecasts hourly spend from the retained hourly rollup (up to five weeks) to month end and beyond.</summary>
    private ForecastResult Compute(int horizonHours)
    {
        var cost = Find(MetricVocabulary.Cost);
        if (cost is null) return new ForecastResult(null, "This cost center has not reported any spend yet.");

        var now = Time.GetUtcNow().UtcDateTime;
        var currentHourStart = new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc);
        var sums = cost.Hourly.RegularSums(cost.Hourly.Capacity, out var firstMs);
        var first = DateTime.UnixEpoch.AddMilliseconds(firstMs);
        // Drop the current, incomplete hour: its partial sum would read as a drop in spend.
        var end = sums.Length;
        if (end > 0 && first.AddHours(end - 1) >= currentHourStart) end--;
        var start = 0;
        while (start < end && double.IsNaN(sums[start])) start++;
        var history = new double[end - start];
        for (var i = 0; i < history.Length; i++)
        {
            var v = sums[start + i];
            history[i] = double.IsNaN(v) ? 0 : v; // an hour without cost lines cost nothing
        }
        if (history.Length < MinForecastHistoryHours)
            return new ForecastResult(null, $"Forecasting needs at least {MinForecastHistoryHours} hours of spend history; this cost center has {history.Length}.");

        var historyStart = first.AddHours(start);
        var forecastStart = historyStart.AddHours(history.Length);
        var monthEnd = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        var toMonthEnd = Math.Max(1, (int)Math.Ceiling((monthEnd - forecastStart).TotalHours));
        var steps = Math.Max(horizonHours, toMonthEnd);

        var sw = Stopwatch.StartNew();
        Forecast forecast;
        try
        {
            forecast = Forecaster.Forecast(history, historyStart, TimeSpan.FromHours(1), steps);
        }
        catch (Exception ex)
        {
            _log.LogWarning(ex, "Spend forecast of {Id} failed", Id);
            return new ForecastResult(null, "The forecaster could not fit this history.");
        }
        GrainMetrics.ForecastTraining.Record(sw.Elapsed.TotalMilliseconds);

        var month = CurrentMonth;
        var mtdComplete = MonthSum(MetricVocabulary.Cost, month) - cost.Hourly.SumBetween(
            new DateTimeOffset(currentHourStart).ToUnixTimeMilliseconds(), long.MaxValue);
        var budget = State.Metadata.MonthlyBudget;
        var outlook = BudgetOutlook.Evaluate(mtdComplete, forecast, budget is > 0 ? budget.Value : double.MaxValue, monthEnd);
        var hasBudget = budget is > 0;

        var result = new SpendForecast
        {
            CostCenterId = Id,
            GeneratedAt = now,
            Currency = State.Metadata.Currency ?? "USD",
            Method = forecast.Method,
            SeasonalPeriodHours = forecast.SeasonalPeriod,
            BacktestMae = Finite(forecast.BacktestMae),
            TrainingMilliseconds = forecast.TrainingMilliseconds,
            HistoryHours = history.Length,
            Points = forecast.Points.Select(p => new ForecastPointView(p.TimestampUtc, p.Mean, p.Lo80, p.Hi80, p.Lo95, p.Hi95)).ToList(),
            MonthEnd = new MonthEndOutlook
            {
                MonthEnd = monthEnd,
                SpendMonthToDate = mtdComplete,
                Forecast = outlook.ForecastMonthEnd,
                Lo80 = outlook.Lo80,
                Hi80 = outlook.Hi80,
                Lo95 = outlook.Lo95,
                Hi95 = outlook.Hi95,
                Budget = hasBudget ? budget : null,
                BreachProbability = hasBudget ? outlook.BreachProbability : null,
                ExpectedBreachAt = hasBudget ? outlook.ExpectedBreachUtc : null,
                EarliestLikelyBreachAt = hasBudget ? outlook.EarliestLikelyBreachUtc : null,
            },
        };
        _forecast = result;
        _forecastAtPoints = cost.Points;
        EvaluateForecastBreach(result.MonthEnd);
        return new ForecastResult(result with { Points = result.Points.Take(horizonHours).ToList() }, null);
    }

    /// <summary>Month-end forecast above the budget fires a forecast-breach signal; back under it, a normal one.</summary>
    private void EvaluateForecastBreach(MonthEndOutlook? outlook)
    {
        if (outlook is null || State.Metadata.MonthlyBudget is not { } budget || budget <= 0) return;
        var breach = outlook.Forecast > budget;
        if (breach == _forecastBreachFiring) return;
        _forecastBreachFiring = breach;
        Signal(new AlertSignal
        {
            EntityKind = EntityKind.CostCenter,
            EntityId = Id,
            Metric = MetricVocabulary.Cost,
            Kind = AlertKind.ForecastBudgetBreach,
            Firing = breach,
            At = Time.GetUtcNow().UtcDateTime,
            Score = breach ? outlook.BreachProbability ?? 1 : 0,
            Value = outlook.Forecast,
            Expected = budget,
            MoneyAtRisk = Math.Max(0, outlook.Forecast - budget),
            Summary = breach
                ? $"month-end spend forecast {outlook.Forecast:F2} exceeds the budget {budget:F2} (probability {outlook.BreachProbability:P0})"
                : "month-end spend forecast is within the budget again",
        });
    }

    private static double Finite(double x) => double.IsFinite(x) ? x : 0;

    protected override void EvaluateRules(DateTime now)
    {
        var month = CurrentMonth;
        if (State.BudgetAlertMonth != month)
        {
            if (State.BudgetAlertLevel > 0)
                Signal(BudgetSignal(false, now, 0, 0, "a new month began: budget thresholds reset"));
            State.BudgetAlertMonth = month;
            State.BudgetAlertLevel = 0;
        }
        if (State.Metadata.MonthlyBudget is not { } budget || budget <= 0) return;
        var mtd = MonthSum(MetricVocabulary.Cost, month);
        var percent = mtd / budget * 100;
        var level = BudgetThresholds.FirstOrDefault(t => percent >= t);
        if (level > State.BudgetAlertLevel)
        {
            State.BudgetAlertLevel = level;
            Signal(BudgetSignal(true, now, mtd, budget, $"month-to-date spend {mtd:F2} reached {percent:F0}% of the budget {budget:F2}", level));
        }
    }

    private AlertSignal BudgetSignal(bool firing, DateTime now, double mtd, double budget, string summary, int? level = null) => new()
    {
        EntityKind = EntityKind.CostCenter,
        EntityId = Id,
        Metric = MetricVocabulary.Cost,
        Kind = AlertKind.BudgetThreshold,
        Firing = firing,
        At = now,
        Score = firing ? 1 : 0,
        Value = mtd,
        Expected = budget > 0 ? budget : null,
        MoneyAtRisk = firing ? Math.Max(0, mtd - budget) : null,
        ThresholdPercent = level,
        Summary = summary,
    };

    protected override EntitySummary Describe(EntitySummary summary) => summary with { CostCenter = Stats() };

    protected override EntityDigest Digest(EntityDigest digest) => digest with
    {
        MonthlyBudget = State.Metadata.MonthlyBudget,
        Currency = State.Metadata.Currency,
        ForecastMonthEnd = _forecast?.MonthEnd?.Forecast,
    };

    private CostCenterStats Stats()
    {
        var month = CurrentMonth;
        var mtd = MonthSum(MetricVocabulary.Cost, month);
        var budget = State.Metadata.MonthlyBudget;
        var cost = Find(MetricVocabulary.Cost);
        var byDay = cost is null
            ? []
            : cost.Read(SeriesResolution.Day, 62).Select(p => new AmountByKey(p.Timestamp.ToString("yyyy-MM-dd"), p.Value)).ToList();
        return new CostCenterStats
        {
            Currency = State.Metadata.Currency ?? "USD",
            MonthlyBudget = budget,
            SpendMonthToDate = mtd,
            SpendPreviousMonth = MonthSum(MetricVocabulary.Cost, month - 1),
            BudgetUsedRatio = budget > 0 ? mtd / budget : null,
            SpendTotal = cost?.Total ?? 0,
            SpendByDay = byDay,
            SpendByServiceMonthToDate = Top(State.CostByService, month),
            SpendByResourceMonthToDate = Top(State.CostByResource, month),
        };
    }

    private static List<AmountByKey> Top(Dictionary<int, Dictionary<string, double>> byMonth, int month) =>
        byMonth.TryGetValue(month, out var sums)
            ? sums.OrderByDescending(kv => kv.Value).Take(TopBreakdown).Select(kv => new AmountByKey(kv.Key, kv.Value)).ToList()
            : [];
}
