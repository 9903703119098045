namespace AiOps.Abstractions;

/// <summary>Common surface of pipeline, model and cost-center grains. Key: the entity id.</summary>
[Alias("aiops.IEntityGrain")]
public interface IEntityGrain : IGrainWithStringKey
{
    /// <summary>The entity's summary: metadata, metrics, domain statistics, open anomalies.</summary>
    [Alias("GetSummary")]
    Task<EntitySummary> GetSummaryAsync();

    /// <summary>A metric's recent series at the given resolution, oldest first; null for an unknown metric.</summary>
    [Alias("GetSeries")]
    Task<SeriesView?> GetSeriesAsync(string metric, SeriesResolution resolution, int limit);

    /// <summary>Registers the entity or replaces its metadata.</summary>
    [Alias("PutMetadata")]
    Task<EntitySummary> PutMetadataAsync(EntityMetadata metadata);

    /// <summary>Applies a batch directly (the stream handler's path; also used by tests and replays).</summary>
    [Alias("Apply")]
    Task ApplyAsync(TelemetryBatch batch);

    /// <summary>Writes state now (used at shutdown and by tests).</summary>
    [Alias("Flush")]
    Task FlushAsync();

    /// <summary>
    /// Applies a batch from an ingest-log partition (cluster mode) and tells how far this entity is in that partition.
    /// A batch whose <see cref="TelemetryBatch.PreviousPosition"/> is ahead of what the entity holds is not applied:
    /// the reply's <see cref="LogCheckpoint.Gap"/> asks the sender to deliver again from <see cref="LogCheckpoint.Applied"/>.
    /// </summary>
    [Alias("Deliver")]
    Task<LogCheckpoint> DeliverAsync(TelemetryBatch batch);

    /// <summary>How far this entity is in an ingest-log partition (applied in memory, and saved).</summary>
    [Alias("GetLogCheckpoint")]
    Task<LogCheckpoint> GetLogCheckpointAsync(int partition);
}

/// <summary>An entity's progress in one ingest-log partition.</summary>
[GenerateSerializer, Immutable, Alias("aiops.LogCheckpoint")]
public sealed record LogCheckpoint(
    [property: Id(0)] long Applied,
    [property: Id(1)] long Saved,
    [property: Id(2)] bool Gap = false);

[Alias("aiops.IPipelineGrain")]
public interface IPipelineGrain : IEntityGrain;

[Alias("aiops.IModelGrain")]
public interface IModelGrain : IEntityGrain;

[Alias("aiops.ICostCenterGrain")]
public interface ICostCenterGrain : IEntityGrain
{
    /// <summary>Hourly spend forecast for <paramref name="horizonHours"/> hours (at least to month end), with month-end outlook.</summary>
    [Alias("GetForecast")]
    Task<ForecastResult> GetForecastAsync(int horizonHours);
}

/// <summary>The unified value view. Key: tenant ("default").</summary>
[Alias("aiops.IValueGrain")]
public interface IValueGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    [Alias("Report")]
    Task ReportAsync(EntityDigest[] digests);

    [Alias("GetReport")]
    Task<ValueReport> GetReportAsync();

    [Alias("List")]
    Task<EntityPage> ListAsync(EntityKind kind, int offset, int limit);

    /// <summary>Writes state now (graceful shutdown).</summary>
    [Alias("Flush")]
    Task FlushAsync();
}

public static class EntityGrainFactory
{
    public static IEntityGrain GetEntity(this IGrainFactory factory, EntityKind kind, string id) => kind switch
    {
        EntityKind.Pipeline => factory.GetGrain<IPipelineGrain>(id),
        EntityKind.Model => factory.GetGrain<IModelGrain>(id),
        EntityKind.CostCenter => factory.GetGrain<ICostCenterGrain>(id),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
