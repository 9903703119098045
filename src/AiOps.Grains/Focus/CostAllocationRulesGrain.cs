using AiOps.Abstractions;
using AiOps.Abstractions.Focus;

namespace AiOps.Grains.Focus;

/// <summary>The operator-managed allocation rules; every import reads them once at its start.</summary>
[GrainType("costallocationrules")]
public sealed class CostAllocationRulesGrain(
    [PersistentState("costallocationrules", StorageNames.Entities)] IPersistentState<CostAllocationRulesState> state,
    TimeProvider time) : Grain, ICostAllocationRulesGrain
{
    public Task<CostAllocationRules> GetAsync() => Task.FromResult(state.State.Rules);

    public async Task<CostAllocationRules> PutAsync(CostAllocationRules rules)
    {
        state.State.Rules = rules with { Version = state.State.Rules.Version + 1, UpdatedAt = time.GetUtcNow().UtcDateTime };
        await state.WriteStateAsync();
        return state.State.Rules;
    }
}
