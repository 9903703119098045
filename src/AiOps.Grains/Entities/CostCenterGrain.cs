using AiOps.Abstractions;
using AiOps.Grains.Series;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace AiOps.Grains.Entities;

/// <summary>A cost center: spend by day, service and resource, budget and month to date.</summary>
[ImplicitStreamSubscription(StreamNames.CostCenterNamespace)]
public sealed class CostCenterGrain(
    [PersistentState("entity", StorageNames.Entities)] IPersistentState<EntityState> state,
    IOptions<EntityGrainOptions> options,
    TimeProvider time,
    ILogger<CostCenterGrain> logger,
    IngestionProgress progress,
    PersistGate gate)
    : EntityGrain(state, options, time, logger, progress, gate), ICostCenterGrain
{
    private const int TopBreakdown = 20;

    protected override EntityKind Kind => EntityKind.CostCenter;

    protected override SeriesRetention RetentionFor(string metric) =>
        metric == MetricVocabulary.Cost ? SeriesRetention.Spend : SeriesRetention.Default;

    protected override void OnPoint(TelemetryPoint point, MetricSeries series, bool inOrder)
    {
        if (point.Metric == MetricVocabulary.Cost && State.Metadata.Currency is null
            && point.Attribute(MetricVocabulary.Attributes.Currency) is { } currency)
        {
            State.Metadata = State.Metadata with { Currency = currency };
        }
    }

    protected override EntitySummary Describe(EntitySummary summary) => summary with { CostCenter = Stats() };

    protected override EntityDigest Digest(EntityDigest digest) => digest with
    {
        MonthlyBudget = State.Metadata.MonthlyBudget,
        Currency = State.Metadata.Currency,
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
