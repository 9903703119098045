namespace AiOps.Abstractions;

/// <summary>Operator-supplied metadata of an entity. Null fields are "not set".</summary>
[GenerateSerializer, Immutable, Alias("aiops.EntityMetadata")]
public sealed record EntityMetadata
{
    [Id(0)] public string? Name { get; init; }
    [Id(1)] public string? Owner { get; init; }
    [Id(2)] public string? Team { get; init; }
    [Id(3)] public string? Description { get; init; }
    /// <summary>Pipeline or model: the cost center its spend is booked to.</summary>
    [Id(4)] public string? CostCenterId { get; init; }
    /// <summary>Model: the pipeline that trains it.</summary>
    [Id(5)] public string? TrainingPipelineId { get; init; }
    /// <summary>Cost center: monthly budget in <see cref="Currency"/>.</summary>
    [Id(6)] public double? MonthlyBudget { get; init; }
    [Id(7)] public string? Currency { get; init; }
    /// <summary>Pipeline: data is fresh when the last successful run is at most this old.</summary>
    [Id(8)] public double? FreshnessSlaSeconds { get; init; }
    /// <summary>Model: healthy while the month's error rate stays at or below this (default 0.05).</summary>
    [Id(9)] public double? MaxErrorRate { get; init; }
    /// <summary>Model: healthy while recent mean latency stays at or below this (unset: not checked).</summary>
    [Id(10)] public double? MaxLatencyMs { get; init; }
    [Id(11)] public Dictionary<string, string>? Labels { get; init; }
    /// <summary>Any kind: a missing-telemetry alert fires when no event (by event time) arrived for this long (unset: not checked).</summary>
    [Id(12)] public double? MaxSilenceSeconds { get; init; }
    /// <summary>
    /// Any kind: the IANA time zone (e.g. Europe/Berlin) whose clock the entity's telemetry follows (an office's traffic, a
    /// batch at 02:00 local time). The anomaly detectors then compare each reading with the same local time a day or week
    /// ago, so a daylight-saving change is not an anomaly. Unset: UTC.
    /// </summary>
    [Id(13)] public string? TimeZone { get; init; }

    public static readonly EntityMetadata Empty = new();
}
