namespace AiOps.Abstractions;

/// <summary>One validated telemetry point for one entity (the entity is the stream's key).</summary>
[GenerateSerializer, Immutable, Alias("aiops.TelemetryPoint")]
public sealed record TelemetryPoint(
    [property: Id(0)] string Metric,
    [property: Id(1)] double Value,
    [property: Id(2)] long TimestampMs,
    [property: Id(3)] string? EventId,
    [property: Id(4)] KeyValuePair<string, string>[]? Attributes)
{
    public string? Attribute(string key)
    {
        if (Attributes is null) return null;
        foreach (var kv in Attributes)
        {
            if (kv.Key == key) return kv.Value;
        }
        return null;
    }
}

/// <summary>
/// The unit published to an entity's stream. <see cref="BatchId"/> is unique per publish so that a
/// redelivered batch (at-least-once streams) is applied once.
/// </summary>
[GenerateSerializer, Immutable, Alias("aiops.TelemetryBatch")]
public sealed record TelemetryBatch(
    [property: Id(0)] Guid BatchId,
    [property: Id(1)] EntityKind Kind,
    [property: Id(2)] TelemetryPoint[] Points,
    [property: Id(3)] long PublishedAtMs = 0);
