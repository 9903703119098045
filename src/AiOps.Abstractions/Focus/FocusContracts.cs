using Orleans.Concurrency;

namespace AiOps.Abstractions.Focus;

/// <summary>Tag keys that allocate a FOCUS cost row directly (they win over rules).</summary>
public static class AllocationTags
{
    public const string Model = "aiops-model";
    public const string Pipeline = "aiops-pipeline";
    public const string CostCenter = "aiops-costcenter";
    /// <summary>A team tag names the team's cost center (same effect as <see cref="CostCenter"/>, which wins if both are set).</summary>
    public const string Team = "aiops-team";
}

/// <summary>What a rule matches on; every field that is set must match (ordinal, exact; <see cref="ResourceIdPrefix"/> is a prefix).</summary>
[GenerateSerializer, Immutable, Alias("aiops.AllocationMatch")]
public sealed record AllocationMatch
{
    [Id(0)] public string? TagKey { get; init; }
    /// <summary>With <see cref="TagKey"/>: the tag's value; null matches any value of that tag.</summary>
    [Id(1)] public string? TagValue { get; init; }
    [Id(2)] public string? BillingAccountId { get; init; }
    [Id(3)] public string? SubAccountId { get; init; }
    [Id(4)] public string? ServiceName { get; init; }
    [Id(5)] public string? ServiceCategory { get; init; }
    [Id(6)] public string? ResourceIdPrefix { get; init; }
    [Id(7)] public string? RegionId { get; init; }
    [Id(8)] public string? ChargeCategory { get; init; }
}

/// <summary>One allocation rule: rows it matches go to its cost center (literal or taken from a tag), model and pipeline.</summary>
[GenerateSerializer, Immutable, Alias("aiops.AllocationRule")]
public sealed record AllocationRule
{
    [Id(0)] public string? Name { get; init; }
    [Id(1)] public AllocationMatch Match { get; init; } = new();
    [Id(2)] public string? CostCenter { get; init; }
    /// <summary>Takes the cost center id from this tag's value (e.g. a team or business-unit tag).</summary>
    [Id(3)] public string? CostCenterFromTag { get; init; }
    [Id(4)] public string? Model { get; init; }
    [Id(5)] public string? Pipeline { get; init; }
}

/// <summary>The operator-managed allocation rules for FOCUS imports (first matching rule wins).</summary>
[GenerateSerializer, Immutable, Alias("aiops.CostAllocationRules")]
public sealed record CostAllocationRules
{
    public const string DefaultUnallocated = "unallocated";

    [Id(0)] public IReadOnlyList<AllocationRule> Rules { get; init; } = [];
    /// <summary>Cost center for rows of a billing account that nothing else allocates, by BillingAccountId.</summary>
    [Id(1)] public IReadOnlyDictionary<string, string> DefaultCostCenters { get; init; } = new Dictionary<string, string>();
    /// <summary>The cost center that receives rows nothing allocates (shown as the unallocated share).</summary>
    [Id(2)] public string UnallocatedCostCenter { get; init; } = DefaultUnallocated;
    [Id(3)] public int Version { get; init; }
    [Id(4)] public DateTime? UpdatedAt { get; init; }
}

/// <summary>Spend of one (entity, service, charge day) of a billing period: what an import sends to the entity grains.</summary>
[GenerateSerializer, Immutable, Alias("aiops.FocusCostLine")]
public readonly record struct FocusCostLine(
    [property: Id(0)] EntityKind Kind,
    [property: Id(1)] string EntityId,
    [property: Id(2)] string Service,
    [property: Id(3)] long DayMs,
    [property: Id(4)] double Amount);

/// <summary>Totals of one billing account's billing period as its latest import left them.</summary>
[GenerateSerializer, Immutable, Alias("aiops.FocusPeriodSummary")]
public sealed record FocusPeriodSummary
{
    [Id(0)] public required string BillingAccountId { get; init; }
    [Id(1)] public string? BillingAccountName { get; init; }
    [Id(2)] public DateTime BillingPeriodStart { get; init; }
    [Id(3)] public DateTime? BillingPeriodEnd { get; init; }
    [Id(4)] public string Currency { get; init; } = "USD";
    [Id(5)] public long Rows { get; init; }
    [Id(6)] public long RowsMapped { get; init; }
    [Id(7)] public long RowsUnmapped { get; init; }
    [Id(8)] public double BilledCost { get; init; }
    [Id(9)] public double EffectiveCost { get; init; }
    [Id(10)] public double ListCost { get; init; }
    [Id(11)] public double CommitmentDiscountBilledCost { get; init; }
    [Id(12)] public double CommitmentDiscountEffectiveCost { get; init; }
    [Id(13)] public double Unallocated { get; init; }
    [Id(14)] public IReadOnlyDictionary<string, double> ByService { get; init; } = new Dictionary<string, double>();
    [Id(15)] public IReadOnlyDictionary<string, double> BySubAccount { get; init; } = new Dictionary<string, double>();
    [Id(16)] public IReadOnlyDictionary<string, double> ByChargeCategory { get; init; } = new Dictionary<string, double>();
    [Id(17)] public IReadOnlyDictionary<string, double> ByCostCenter { get; init; } = new Dictionary<string, double>();
    [Id(18)] public IReadOnlyDictionary<string, double> ByModel { get; init; } = new Dictionary<string, double>();
    [Id(19)] public IReadOnlyDictionary<string, double> ByPipeline { get; init; } = new Dictionary<string, double>();
    [Id(20)] public int Generation { get; init; }
    [Id(21)] public DateTime ImportedAt { get; init; }
    [Id(22)] public int RulesVersion { get; init; }
}

/// <summary>One billing period of an import: its summary and its cost lines (the full, restated period).</summary>
[GenerateSerializer, Immutable, Alias("aiops.FocusPeriodImport")]
public sealed record FocusPeriodImport(
    [property: Id(0)] FocusPeriodSummary Summary,
    [property: Id(1)] FocusCostLine[] Lines);

/// <summary>What importing one billing period did.</summary>
[GenerateSerializer, Immutable, Alias("aiops.FocusPeriodOutcome")]
public sealed record FocusPeriodOutcome(
    [property: Id(0)] bool Applied,
    [property: Id(1)] int Generation,
    [property: Id(2)] bool Replaced,
    [property: Id(3)] int PointsSent,
    [property: Id(4)] int PointsResent,
    [property: Id(5)] string? Error = null);

/// <summary>Cost per model, pipeline and team (cost center) of one billing period, with the unallocated share.</summary>
[GenerateSerializer, Immutable, Alias("aiops.CostAllocationView")]
public sealed record CostAllocationView
{
    [Id(0)] public required string BillingPeriod { get; init; }
    [Id(1)] public string Currency { get; init; } = "USD";
    [Id(2)] public double Total { get; init; }
    [Id(3)] public IReadOnlyList<AmountByKey> ByModel { get; init; } = [];
    [Id(4)] public IReadOnlyList<AmountByKey> ByPipeline { get; init; } = [];
    [Id(5)] public IReadOnlyList<AmountByKey> ByTeam { get; init; } = [];
    [Id(6)] public double Unallocated { get; init; }
    /// <summary>Unallocated / total; null when the total is zero.</summary>
    [Id(7)] public double? UnallocatedShare { get; init; }
    [Id(8)] public int BillingAccounts { get; init; }
}

/// <summary>
/// The import ledger of one billing account's billing period. Key: <see cref="Key"/>. It remembers what the last
/// import contributed, so a re-import sends only the differences; its calls are serialised, so two imports of the
/// same period never interleave.
/// </summary>
[Alias("aiops.IFocusPeriodGrain")]
public interface IFocusPeriodGrain : IGrainWithStringKey
{
    public static string Key(string billingAccountId, DateTime billingPeriodStart) =>
        $"{billingPeriodStart:yyyy-MM-dd}|{billingAccountId}";

    [Alias("Import")]
    Task<FocusPeriodOutcome> ImportAsync(FocusPeriodImport import);

    /// <summary>The committed summary (null before the first import). Interleaves: it only reads committed state.</summary>
    [Alias("GetSummary"), AlwaysInterleave]
    Task<FocusPeriodSummary?> GetSummaryAsync();
}

/// <summary>The list of imported billing periods. Key: "default".</summary>
[Alias("aiops.IFocusCatalogGrain")]
public interface IFocusCatalogGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    [Alias("Register")]
    Task RegisterAsync(string periodKey);

    [Alias("List"), AlwaysInterleave]
    Task<string[]> ListAsync();

    /// <summary>Allocation views of the most recent billing periods, newest first.</summary>
    [Alias("GetAllocations"), AlwaysInterleave]
    Task<CostAllocationView[]> GetAllocationsAsync(int periods);
}

/// <summary>The allocation rules document. Key: "default".</summary>
[Alias("aiops.ICostAllocationRulesGrain")]
public interface ICostAllocationRulesGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    [Alias("Get")]
    Task<CostAllocationRules> GetAsync();

    /// <summary>Replaces the rules (validated by the API); returns them with the new version.</summary>
    [Alias("Put")]
    Task<CostAllocationRules> PutAsync(CostAllocationRules rules);
}
