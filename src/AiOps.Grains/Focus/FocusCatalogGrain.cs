using AiOps.Abstractions;
using AiOps.Abstractions.Focus;

namespace AiOps.Grains.Focus;

/// <summary>The list of imported billing periods, and the allocation views the value view shows.</summary>
[GrainType("focuscatalog")]
public sealed class FocusCatalogGrain(
    [PersistentState("focuscatalog", StorageNames.Entities)] IPersistentState<FocusCatalogState> state) : Grain, IFocusCatalogGrain
{
    private const int TopEntries = 20;

    public async Task RegisterAsync(string periodKey)
    {
        if (state.State.Periods.Add(periodKey)) await state.WriteStateAsync();
    }

    public Task<string[]> ListAsync() => Task.FromResult(state.State.Periods.ToArray());

    public async Task<CostAllocationView[]> GetAllocationsAsync(int periods)
    {
        // Keys start with the period's first day, so the newest months are at the end.
        var byMonth = state.State.Periods
            .GroupBy(k => k[..7], StringComparer.Ordinal)
            .OrderByDescending(g => g.Key, StringComparer.Ordinal)
            .Take(Math.Clamp(periods, 1, 24))
            .ToList();
        var views = new List<CostAllocationView>();
        foreach (var month in byMonth)
        {
            var summaries = (await Task.WhenAll(month.Select(k => GrainFactory.GetGrain<IFocusPeriodGrain>(k).GetSummaryAsync())))
                .Where(s => s is not null).Select(s => s!).ToList();
            if (summaries.Count > 0) views.Add(Allocation(month.Key, summaries));
        }
        return [.. views];
    }

    internal static CostAllocationView Allocation(string month, IReadOnlyList<FocusPeriodSummary> summaries)
    {
        static IReadOnlyList<AmountByKey> Merge(IEnumerable<IReadOnlyDictionary<string, double>> maps) => maps
            .SelectMany(m => m)
            .GroupBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(g => new AmountByKey(g.Key, g.Sum(kv => kv.Value)))
            .OrderByDescending(a => a.Amount)
            .Take(TopEntries)
            .ToList();

        var total = summaries.Sum(s => s.BilledCost);
        var unallocated = summaries.Sum(s => s.Unallocated);
        return new CostAllocationView
        {
            BillingPeriod = month,
            Currency = summaries[0].Currency,
            Total = total,
            ByModel = Merge(summaries.Select(s => s.ByModel)),
            ByPipeline = Merge(summaries.Select(s => s.ByPipeline)),
            ByTeam = Merge(summaries.Select(s => s.ByCostCenter)),
            Unallocated = unallocated,
            UnallocatedShare = total != 0 ? unallocated / total : null,
            BillingAccounts = summaries.Count,
        };
    }
}
