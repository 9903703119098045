using AiOps.Abstractions;
using AiOps.Abstractions.Focus;

namespace AiOps.Server.Focus;

/// <summary>Checks an allocation rules document; errors are keyed by JSON path (e.g. <c>rules[2].costCenter</c>).</summary>
internal static class CostAllocationRulesValidator
{
    public const int MaxRules = 1_000;

    public static Dictionary<string, string[]> Validate(CostAllocationRules? rules)
    {
        var errors = new Dictionary<string, string[]>();
        if (rules is null)
        {
            errors["body"] = ["Send an allocation rules document."];
            return errors;
        }
        void Id(string path, string? id)
        {
            if (id is not null && !Limits.IsValidId(id)) errors[path] = [$"'{id}' is not a valid entity id (1-128 letters, digits, . _ - : @, starting with a letter or digit)."];
        }
        if (rules.Rules is null) errors["rules"] = ["Give a list (possibly empty)."];
        else if (rules.Rules.Count > MaxRules) errors["rules"] = [$"At most {MaxRules} rules."];
        else
        {
            for (var i = 0; i < rules.Rules.Count; i++)
            {
                var r = rules.Rules[i];
                var path = $"rules[{i}]";
                if (r is null) { errors[path] = ["A rule cannot be null."]; continue; }
                if (r.Match is null) { errors[$"{path}.match"] = ["Give the conditions (an empty object matches every row)."]; continue; }
                if (r.CostCenter is null && r.CostCenterFromTag is null && r.Model is null && r.Pipeline is null)
                    errors[path] = ["A rule needs a target: costCenter, costCenterFromTag, model or pipeline."];
                if (r.CostCenter is not null && r.CostCenterFromTag is not null)
                    errors[$"{path}.costCenterFromTag"] = ["Give either costCenter or costCenterFromTag, not both."];
                if (r.Match.TagValue is not null && r.Match.TagKey is null)
                    errors[$"{path}.match.tagValue"] = ["tagValue needs tagKey."];
                if (r.Match.TagKey is { Length: 0 }) errors[$"{path}.match.tagKey"] = ["A tag key cannot be empty."];
                if (r.CostCenterFromTag is { Length: 0 }) errors[$"{path}.costCenterFromTag"] = ["A tag key cannot be empty."];
                Id($"{path}.costCenter", r.CostCenter);
                Id($"{path}.model", r.Model);
                Id($"{path}.pipeline", r.Pipeline);
            }
        }
        if (rules.DefaultCostCenters is not null)
            foreach (var (account, cc) in rules.DefaultCostCenters) Id($"defaultCostCenters.{account}", cc);
        if (rules.UnallocatedCostCenter is null) errors["unallocatedCostCenter"] = ["Give the cost center of unallocated rows."];
        else Id("unallocatedCostCenter", rules.UnallocatedCostCenter);
        return errors;
    }
}
