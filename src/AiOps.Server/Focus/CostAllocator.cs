using AiOps.Abstractions.Focus;

namespace AiOps.Server.Focus;

/// <summary>Where one FOCUS row's cost goes. <see cref="Mapped"/>: something (tag, rule or account default) allocated it.</summary>
internal readonly record struct Allocation(string? CostCenter, string? Model, string? Pipeline, bool Mapped);

/// <summary>The fields of one row that rules can match on (strings are interned by the reader; spans are not kept).</summary>
internal readonly ref struct FocusRowView
{
    public required string BillingAccountId { get; init; }
    public required string? SubAccountId { get; init; }
    public required string ServiceName { get; init; }
    public required string? ServiceCategory { get; init; }
    public required string? ChargeCategory { get; init; }
    public required ReadOnlySpan<char> ResourceId { get; init; }
    public required ReadOnlySpan<char> RegionId { get; init; }
}

/// <summary>
/// The allocation rules compiled for one import. Order of precedence, per target (model, pipeline, cost center):
/// the row's own <c>aiops-*</c> tags, then the first rule whose every condition matches, then (cost center only) the
/// billing account's default. A row none of them allocates is unmapped and goes to the unallocated cost center.
/// </summary>
internal sealed class CostAllocator
{
    private readonly CompiledRule[] _rules;
    private readonly IReadOnlyDictionary<string, string> _defaults;

    public CostAllocator(CostAllocationRules rules)
    {
        Rules = rules;
        UnallocatedCostCenter = rules.UnallocatedCostCenter;
        _defaults = rules.DefaultCostCenters;
        var keys = new List<string> { AllocationTags.Model, AllocationTags.Pipeline, AllocationTags.CostCenter, AllocationTags.Team };
        int KeyIndex(string? key)
        {
            if (key is null) return -1;
            var i = keys.IndexOf(key);
            if (i >= 0) return i;
            keys.Add(key);
            return keys.Count - 1;
        }
        _rules = rules.Rules.Select(r => new CompiledRule(r, KeyIndex(r.Match.TagKey), KeyIndex(r.CostCenterFromTag))).ToArray();
        TagKeys = [.. keys];
    }

    public CostAllocationRules Rules { get; }
    public string UnallocatedCostCenter { get; }

    /// <summary>The tag keys allocation looks at; the reader fills a value per key (null: the row lacks it).</summary>
    public string[] TagKeys { get; }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public Allocation Allocate(in FocusRowView row, ReadOnlySpan<string?> tags)
    {
        var model = tags[0];
        var pipeline = tags[1];
        var costCenter = tags[2] ?? tags[3];
        if (model is null || pipeline is null || costCenter is null)
        {
            foreach (var rule in _rules)
            {
                if (!rule.Matches(row, tags)) continue;
                model ??= rule.Rule.Model;
                pipeline ??= rule.Rule.Pipeline;
                costCenter ??= rule.Rule.CostCenter ?? (rule.CostCenterTag >= 0 && tags[rule.CostCenterTag] is { } label ? AsId(label) : null);
                break;
            }
        }
        if (costCenter is null && _defaults.TryGetValue(row.BillingAccountId, out var fallback)) costCenter = fallback;
        return new Allocation(costCenter, model, pipeline, model is not null || pipeline is not null || costCenter is not null);
    }

    private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);

    /// <summary>
    /// A free-form tag value (a team or business-unit label) as an entity id: characters outside the id alphabet become
    /// '-', at most 128 characters, "x" in front of a value that does not start with a letter or digit.
    /// </summary>
    internal string AsId(string label)
    {
        if (_ids.TryGetValue(label, out var id)) return id;
        if (AiOps.Abstractions.Limits.IsValidId(label)) id = label;
        else
        {
            var chars = label.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '@' ? c : '-').ToArray();
            id = new string(chars);
            if (id.Length == 0 || !char.IsAsciiLetterOrDigit(id[0])) id = "x" + id;
            if (id.Length > AiOps.Abstractions.Limits.MaxIdLength) id = id[..AiOps.Abstractions.Limits.MaxIdLength];
        }
        if (_ids.Count < 100_000) _ids[label] = id;
        return id;
    }

    private sealed record CompiledRule(AllocationRule Rule, int TagIndex, int CostCenterTag)
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public bool Matches(in FocusRowView row, ReadOnlySpan<string?> tags)
        {
            var m = Rule.Match;
            if (TagIndex >= 0)
            {
                var value = tags[TagIndex];
                if (value is null || (m.TagValue is not null && !string.Equals(value, m.TagValue, StringComparison.Ordinal))) return false;
            }
            // A rule that takes its cost center from a tag applies only to rows carrying that tag.
            if (CostCenterTag >= 0 && Rule.CostCenter is null && tags[CostCenterTag] is null) return false;
            if (m.BillingAccountId is not null && !string.Equals(m.BillingAccountId, row.BillingAccountId, StringComparison.Ordinal)) return false;
            if (m.SubAccountId is not null && !string.Equals(m.SubAccountId, row.SubAccountId, StringComparison.Ordinal)) return false;
            if (m.ServiceName is not null && !string.Equals(m.ServiceName, row.ServiceName, StringComparison.Ordinal)) return false;
            if (m.ServiceCategory is not null && !string.Equals(m.ServiceCategory, row.ServiceCategory, StringComparison.Ordinal)) return false;
            if (m.ChargeCategory is not null && !string.Equals(m.ChargeCategory, row.ChargeCategory, StringComparison.Ordinal)) return false;
            if (m.RegionId is not null && !row.RegionId.SequenceEqual(m.RegionId)) return false;
            if (m.ResourceIdPrefix is not null && !row.ResourceId.StartsWith(m.ResourceIdPrefix, StringComparison.Ordinal)) return false;
            return true;
        }
    }
}
