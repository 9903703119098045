using AiOps.Abstractions;
using AiOps.Grains.Entities;
using Orleans.Runtime;

namespace AiOps.Grains.Value;

/// <summary>
/// The unified value view over all entities. It only ever sees digests (a few hundred bytes per entity),
/// never raw events; it also serves as the catalogue behind the list endpoints.
/// </summary>
[GrainType("value")]
public sealed class ValueGrain(
    [PersistentState("value", StorageNames.Entities)] IPersistentState<ValueState> state,
    TimeProvider time)
    : Grain, IValueGrain
{
    private static readonly TimeSpan PersistInterval = TimeSpan.FromSeconds(5);
    private const int TopDrivers = 10;
    private bool _dirty;
    private IGrainTimer? _timer;
    // One catalogue per kind, indexed by the kind's value (sized from the kind table: a new kind needs no change here).
    private readonly SortedDictionary<string, EntityDigest>[] _byKind =
        Enumerable.Range(0, EntityKinds.Count).Select(_ => new SortedDictionary<string, EntityDigest>(StringComparer.Ordinal)).ToArray();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var d in state.State.Digests.Values) _byKind[(int)d.Kind][d.Id] = d;
        _timer = this.RegisterGrainTimer(SaveIfDirtyAsync, new GrainTimerCreationOptions(PersistInterval, PersistInterval));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        await SaveIfDirtyAsync(cancellationToken);
    }

    private async Task SaveIfDirtyAsync(CancellationToken cancellationToken)
    {
        if (!_dirty) return;
        _dirty = false;
        await state.WriteStateAsync(cancellationToken);
    }

    public Task FlushAsync() => SaveIfDirtyAsync(CancellationToken.None);

    public Task ReportAsync(EntityDigest[] digests)
    {
        foreach (var d in digests)
        {
            state.State.Digests[$"{d.Kind.ToWire()}:{d.Id}"] = d;
            _byKind[(int)d.Kind][d.Id] = d;
        }
        _dirty = true;
        return Task.CompletedTask;
    }

    public Task<EntityPage> ListAsync(EntityKind kind, int offset, int limit)
    {
        var all = _byKind[(int)kind];
        var items = all.Values.Skip(offset).Take(limit).ToList();
        return Task.FromResult(new EntityPage(items, all.Count, offset, limit));
    }

    public async Task<ValueReport> GetReportAsync()
    {
        // Alert counts come from the alert index, the one owner of alert state: the entities' own anomaly episodes
        // only decide when to signal, and counted here they disagreed with the alert list (silences, manual resolves).
        var active = await GrainFactory.GetGrain<Abstractions.Alerts.IAlertIndexGrain>(Abstractions.Alerts.IAlertIndexGrain.DefaultKey).GetActiveCountsAsync();
        var allocation = await GrainFactory.GetGrain<AiOps.Abstractions.Focus.IFocusCatalogGrain>(AiOps.Abstractions.Focus.IFocusCatalogGrain.DefaultKey).GetAllocationsAsync(3);
        return Report(active) with { CostAllocation = allocation };
    }

    private ValueReport Report(Abstractions.Alerts.OpenAlertCount[] active)
    {
        var now = time.GetUtcNow();
        var month = EntityGrain.MonthKey(now.ToUnixTimeMilliseconds());
        var pipelines = _byKind[(int)EntityKind.Pipeline].Values;
        var models = _byKind[(int)EntityKind.Model].Values;
        var centers = _byKind[(int)EntityKind.CostCenter].Values;
        var all = _byKind.SelectMany(k => k.Values).ToList();

        double Mtd(EntityDigest d, Func<EntityDigest, double> f) => d.MonthKey == month ? f(d) : 0;

        var spend = all.Sum(d => Mtd(d, x => x.CostMonthToDate));
        var value = models.Sum(d => Mtd(d, x => x.ValueMonthToDate));
        var predictions = models.Sum(d => Mtd(d, x => x.PredictionsMonthToDate));
        var runs = pipelines.Sum(d => Mtd(d, x => x.RunsMonthToDate));
        var budgets = centers.Where(c => c.MonthlyBudget is > 0).Select(c => c.MonthlyBudget!.Value).ToList();
        double? budget = budgets.Count > 0 ? budgets.Sum() : null;
        var forecasts = centers.Where(c => c.ForecastMonthEnd is not null).ToList();

        var (modelSpend, pipelineSpend) = AttributeSpend(pipelines, models, centers, d => Mtd(d, x => x.CostMonthToDate));

        var withFreshness = pipelines.Where(p => p.Fresh is not null).ToList();
        var withHealth = models.Where(m => m.Healthy is not null).ToList();

        var drivers = all
            .Select(d => (d, spend: Mtd(d, x => x.CostMonthToDate)))
            .Where(x => x.spend > 0)
            .OrderByDescending(x => x.spend)
            .Take(TopDrivers)
            .Select(x => new CostDriver(x.d.Kind, x.d.Id, x.d.Name, x.spend, spend > 0 ? x.spend / spend : 0))
            .ToList();

        var byTeam = all
            .GroupBy(d => d.Team ?? "(none)")
            .Select(g => new TeamValue(g.Key, g.Sum(d => Mtd(d, x => x.CostMonthToDate)), g.Sum(d => Mtd(d, x => x.ValueMonthToDate))))
            .Where(t => t.SpendMonthToDate != 0 || t.ValueMonthToDate != 0)
            .OrderByDescending(t => t.SpendMonthToDate)
            .ToList();

        var currency = centers.Select(c => c.Currency).FirstOrDefault(c => c is not null) ?? "USD";

        return new ValueReport
        {
            Month = EntityGrain.MonthName(month),
            AsOf = now.UtcDateTime,
            Pipelines = pipelines.Count,
            Models = models.Count,
            CostCenters = centers.Count,
            Datasets = _byKind[(int)EntityKind.Dataset].Count,
            SpendMonthToDate = spend,
            BudgetMonthly = budget,
            BudgetUsedRatio = budget > 0 ? spend / budget : null,
            ForecastMonthEnd = forecasts.Count > 0 ? forecasts.Sum(c => c.ForecastMonthEnd!.Value) + (spend - forecasts.Sum(c => Mtd(c, x => x.CostMonthToDate))) : null,
            ValueMonthToDate = value,
            Roi = spend > 0 ? (value - spend) / spend : null,
            PredictionsMonthToDate = predictions,
            CostPer1kPredictions = predictions > 0 ? modelSpend / predictions * 1000 : null,
            PipelineRunsMonthToDate = runs,
            CostPerPipelineRun = runs > 0 ? pipelineSpend / runs : null,
            PipelinesFreshPercent = withFreshness.Count > 0 ? 100.0 * withFreshness.Count(p => p.Fresh == true) / withFreshness.Count : null,
            ModelsHealthyPercent = withHealth.Count > 0 ? 100.0 * withHealth.Count(m => m.Healthy == true) / withHealth.Count : null,
            TopCostDrivers = drivers,
            ByTeam = byTeam,
            OpenAnomalies = active.Where(c => c.Kind is Abstractions.Alerts.AlertKind.MetricAnomaly or Abstractions.Alerts.AlertKind.SpendAnomaly).Sum(c => c.Count),
            OpenAlerts = active.Sum(c => c.Count),
            OpenAlertsBySeverity = active.GroupBy(c => c.Severity.ToString().ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Sum(c => c.Count)),
            EventsApplied = all.Sum(d => d.EventsApplied),
            Currency = currency,
        };
    }

    /// <summary>
    /// Spend attributed to models and to pipelines: their own reported cost plus the spend of the cost
    /// centers they are linked to, a shared cost center split by the number of linked entities of each
    /// kind. Without any link, all spend counts for both (cost per prediction and per run of the whole estate).
    /// </summary>
    internal static (double Models, double Pipelines) AttributeSpend(
        IEnumerable<EntityDigest> pipelines, IEnumerable<EntityDigest> models, IEnumerable<EntityDigest> centers, Func<EntityDigest, double> spendOf)
    {
        var pipelineLinks = pipelines.Where(p => p.CostCenterId is not null).GroupBy(p => p.CostCenterId!).ToDictionary(g => g.Key, g => g.Count());
        var modelLinks = models.Where(m => m.CostCenterId is not null).GroupBy(m => m.CostCenterId!).ToDictionary(g => g.Key, g => g.Count());
        var total = pipelines.Sum(spendOf) + models.Sum(spendOf) + centers.Sum(spendOf);
        if (pipelineLinks.Count == 0 && modelLinks.Count == 0) return (total, total);

        var modelSpend = models.Sum(spendOf);
        var pipelineSpend = pipelines.Sum(spendOf);
        foreach (var c in centers)
        {
            var p = pipelineLinks.GetValueOrDefault(c.Id);
            var m = modelLinks.GetValueOrDefault(c.Id);
            if (p + m == 0) continue;
            var s = spendOf(c);
            modelSpend += s * m / (p + m);
            pipelineSpend += s * p / (p + m);
        }
        return (modelSpend, pipelineSpend);
    }
}
