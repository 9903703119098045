using AiOps.Abstractions;

namespace AiOps.Grains.Value;

public sealed class ValueState
{
    /// <summary>Latest digest per entity, keyed "kind:id".</summary>
    public Dictionary<string, EntityDigest> Digests { get; set; } = [];
}
