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
    private IGrainTimer? _forecastTimer;

    // Forecasts are fitted on the background trainer, never in a grain turn; reads only look at the result.
    private ForecastRun? _latest;          // the newest finished fit
    private Task<ForecastRun?>? _pending;  // a fit under way (null: none)
    private string? _forecastProblem;      // why there is no forecast (too little history, fit failed)
    private IGrainTimer? _adoptTimer;

    /// <summary>A finished fit: the forecast from <see cref="ForecastStart"/> on and what it was fitted on.</summary>
    private sealed record ForecastRun(Forecast Forecast, DateTime GeneratedAt, DateTime ForecastStart, int HistoryHours, long AtPoints);

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
        _adoptTimer?.Dispose();
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

    /// <summary>
    /// Read only: serves the newest fit. When there is none yet (or it is older than the spend it should cover),
    /// a fit is queued on the background trainer and awaited outside the turn (this call interleaves), so ingestion
    /// into this cost center goes on meanwhile. It never signals an alert and never writes state.
    /// </summary>
    public async Task<ForecastResult> GetForecastAsync(int horizonHours)
    {
        var run = _latest;
        if (run is null || IsStale(run) || run.Forecast.Points.Count < horizonHours)
        {
            if (_pending is null) StartForecast(horizonHours);
            if (_pending is { } pending && (run is null || run.Forecast.Points.Count < horizonHours))
            {
                var fresh = await pending.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null);
                if (fresh is not null) run = fresh;
            }
        }
        if (run is null) return new ForecastResult(null, _forecastProblem ?? "The spend forecast is still being computed; try again shortly.");
        var view = View(run);
        return new ForecastResult(view with { Points = view.Points.Take(horizonHours).ToList() }, null);
    }

    private bool IsStale(ForecastRun run) =>
        Find(MetricVocabulary.Cost) is { } cost && cost.Points != run.AtPoints
        || run.GeneratedAt < Time.GetUtcNow().UtcDateTime - Options.ForecastInterval;

    /// <summary>Timer turn: refits when new spend arrived since the last fit (off the turn); adoption signals.</summary>
    private Task RefreshForecastAsync(CancellationToken cancellationToken)
    {
        if (_pending is null && Find(MetricVocabulary.Cost) is { } cost && (_latest is null || cost.Points != _latest.AtPoints))
            StartForecast(48);
        return Task.CompletedTask;
    }

    /// <summary>Takes the history in this turn (a copy of up to five weeks of hourly sums) and fits it on the trainer.</summary>
    private void StartForecast(int horizonHours)
    {
        var cost = Find(MetricVocabulary.Cost);
        if (cost is null)
        {
            _forecastProblem = "This cost center has not reported any spend yet.";
            return;
        }
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
        {
            _forecastProblem = $"Forecasting needs at least {MinForecastHistoryHours} hours of spend history; this cost center has {history.Length}.";
            return;
        }

        var historyStart = first.AddHours(start);
        var forecastStart = historyStart.AddHours(history.Length);
        var monthEnd = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        var toMonthEnd = Math.Max(1, (int)Math.Ceiling((monthEnd - forecastStart).TotalHours));
        var steps = Math.Max(horizonHours, toMonthEnd);
        var atPoints = cost.Points;
        var metrics = Metrics;
        var id = Id;
        var log = _log;
        _pending = BackgroundDetectorTrainer.Shared.Run(() =>
        {
            try
            {
                var sw = Stopwatch.StartNew();
                var forecast = Forecaster.Forecast(history, historyStart, TimeSpan.FromHours(1), steps);
                metrics.ForecastTraining.Record(sw.Elapsed.TotalMilliseconds);
                return new ForecastRun(forecast, now, forecastStart, history.Length, atPoints);
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Spend forecast of {Id} failed", id);
                return null;
            }
        });
        // Adopted in a timer turn of this grain (not in a read): the cache changes and the breach rule runs there.
        _adoptTimer ??= this.RegisterGrainTimer(AdoptForecastAsync, new GrainTimerCreationOptions(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100)));
    }

    private Task AdoptForecastAsync(CancellationToken cancellationToken)
    {
        if (_pending is not { IsCompleted: true } done) return Task.CompletedTask;
        _pending = null;
        _adoptTimer?.Dispose();
        _adoptTimer = null;
        var run = done.IsCompletedSuccessfully ? done.Result : null;
        if (run is null)
        {
            _forecastProblem = "The forecaster could not fit this history.";
            return Task.CompletedTask;
        }
        if (_latest is null || run.GeneratedAt >= _latest.GeneratedAt)
        {
            _latest = run;
            _forecastProblem = null;
            Woken(); // the breach rule and the digest see the new fit at the next check, within the digest interval
        }
        // The breach rule runs with the other rules (digest tick, scheduled deadlines), not here: a fit a read asked
        // for only arrives earlier, it decides nothing by itself.
        return Task.CompletedTask;
    }

    /// <summary>The month-end outlook of a fit against the current month-to-date spend and budget (no state changes).</summary>
    private MonthEndOutlook Outlook(ForecastRun run)
    {
        var cost = Find(MetricVocabulary.Cost);
        var now = Time.GetUtcNow().UtcDateTime;
        var currentHourStart = new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc);
        var monthEnd = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        var mtdComplete = MonthSum(MetricVocabulary.Cost, CurrentMonth) - (cost?.Hourly.SumBetween(
            new DateTimeOffset(currentHourStart).ToUnixTimeMilliseconds(), long.MaxValue) ?? 0);
        var budget = State.Metadata.MonthlyBudget;
        var hasBudget = budget is > 0;
        var outlook = BudgetOutlook.Evaluate(mtdComplete, run.Forecast, hasBudget ? budget!.Value : double.MaxValue, monthEnd);
        return new MonthEndOutlook
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
        };
    }

    /// <summary>The API view of a fit (no state changes).</summary>
    private SpendForecast View(ForecastRun run)
    {
        var forecast = run.Forecast;
        return new SpendForecast
        {
            CostCenterId = Id,
            GeneratedAt = run.GeneratedAt,
            Currency = State.Metadata.Currency ?? "USD",
            Method = forecast.Method,
            SeasonalPeriodHours = forecast.SeasonalPeriod,
            BacktestMae = Finite(forecast.BacktestMae),
            TrainingMilliseconds = forecast.TrainingMilliseconds,
            HistoryHours = run.HistoryHours,
            Points = forecast.Points.Select(p => new ForecastPointView(p.TimestampUtc, p.Mean, p.Lo80, p.Hi80, p.Lo95, p.Hi95)).ToList(),
            MonthEnd = Outlook(run),
        };
    }

    /// <summary>Month-end forecast above the budget fires a forecast-breach signal; back under it, a normal one.</summary>
    private void EvaluateForecastBreach(MonthEndOutlook? outlook)
    {
        if (outlook is null || State.Metadata.MonthlyBudget is not { } budget || budget <= 0) return;
        var breach = outlook.Forecast > budget;
        if (breach == IsFiring(AlertKind.ForecastBudgetBreach)) return;
        SignalEdge(new AlertSignal
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
        if (State.Metadata.MonthlyBudget is not { } budget || budget <= 0)
        {
            if (IsFiring(AlertKind.ForecastBudgetBreach))
                SignalEdge(BudgetSignal(false, now, 0, 0, "budget removed") with { Kind = AlertKind.ForecastBudgetBreach });
            return;
        }
        // The forecast-breach rule also runs here, against the newest fit (a changed budget, a new month), and a fit
        // is queued when the one we have is older than the forecast interval and spend arrived since (a grain woken
        // by its schedule after a quiet period).
        if (_latest is { } run)
        {
            EvaluateForecastBreach(Outlook(run));
            if (_pending is null && IsStale(run) && run.GeneratedAt <= now - Options.ForecastInterval) StartForecast(48);
        }
        else if (_pending is null && _forecastProblem is null) StartForecast(48);
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

    /// <summary>With a budget, the month's end is a deadline (thresholds reset, the breach outlook moves to the new month) even when the grain sleeps.</summary>
    protected override DateTime? NextRuleDeadline()
    {
        if (State.Metadata.MonthlyBudget is not > 0) return null;
        var now = Time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Year, now.Month, 1, 0, 0, 5, DateTimeKind.Utc).AddMonths(1);
    }

    protected override EntitySummary Describe(EntitySummary summary) => summary with { CostCenter = Stats() };

    protected override EntityDigest Digest(EntityDigest digest) => digest with
    {
        MonthlyBudget = State.Metadata.MonthlyBudget,
        Currency = State.Metadata.Currency,
        ForecastMonthEnd = _latest is null ? null : Outlook(_latest).Forecast,
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
