using AiOps.Abstractions.Focus;

namespace AiOps.Grains.Focus;

public sealed class FocusPeriodState
{
    /// <summary>Generation of the committed import (0: none yet).</summary>
    public int Generation { get; set; }
    /// <summary>What the committed import contributed, per (entity, service, day): the base of the next difference.</summary>
    public List<FocusCostLine> Lines { get; set; } = [];
    public FocusPeriodSummary? Summary { get; set; }

    /// <summary>An import written down but not yet known to be sent (0: none). Re-sent under the same event ids.</summary>
    public int PendingGeneration { get; set; }
    public List<FocusCostLine>? PendingLines { get; set; }
    public FocusPeriodSummary? PendingSummary { get; set; }
}

public sealed class FocusCatalogState
{
    /// <summary>Ledger keys ("yyyy-MM-dd|billing account") of every imported billing period.</summary>
    public SortedSet<string> Periods { get; set; } = new(StringComparer.Ordinal);
}

public sealed class CostAllocationRulesState
{
    public CostAllocationRules Rules { get; set; } = new();
}
