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

    /// <summary>Runs the entity's time-driven rules now (freshness, …): called by the rule schedule when a deadline passes.</summary>
    [Alias("EvaluateRules")]
    Task EvaluateRulesAsync();

    /// <summary>How far this entity is in an ingest-log partition (applied in memory, and saved).</summary>
    [Alias("GetLogCheckpoint")]
    Task<LogCheckpoint> GetLogCheckpointAsync(int partition);
}

/// <summary>
/// Deadlines of time-driven rules, persisted, so that they fire whether or not the entity's grain is active and
/// across restarts. Entities tell it their next deadline; a silo service takes the due ones and asks each entity to
/// evaluate its rules (activating it from storage if needed). Key: <see cref="DefaultKey"/>.
/// </summary>
[Alias("aiops.IRuleScheduleGrain")]
public interface IRuleScheduleGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    /// <summary>Sets (or, with null, clears) the entity's next rule deadline.</summary>
    [Alias("Schedule")]
    Task ScheduleAsync(EntityKind kind, string id, DateTime? dueUtc);

    /// <summary>Removes and returns up to <paramref name="max"/> entities whose deadline is at or before <paramref name="nowUtc"/>.</summary>
    [Alias("TakeDue")]
    Task<EntityRef[]> TakeDueAsync(DateTime nowUtc, int max);
}

[GenerateSerializer, Immutable, Alias("aiops.EntityRef")]
public sealed record EntityRef([property: Id(0)] EntityKind Kind, [property: Id(1)] string Id);

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

/// <summary>An OpenLineage dataset (namespace + name): writes, rows, data-quality failures, schema, owners, freshness.</summary>
[Alias("aiops.IDatasetGrain")]
public interface IDatasetGrain : IEntityGrain
{
    /// <summary>Replaces what the dataset's facets say about it (schema, owners, …); a no-op when nothing changed.</summary>
    [Alias("Describe")]
    Task DescribeAsync(DatasetFacts facts);
}

[Alias("aiops.ICostCenterGrain")]
public interface ICostCenterGrain : IEntityGrain
{
    /// <summary>Hourly spend forecast for <paramref name="horizonHours"/> hours (at least to month end), with month-end outlook.</summary>
    /// <remarks>Interleaves: a read that waits for a fit on the background trainer does not hold up ingestion.</remarks>
    [Alias("GetForecast"), Orleans.Concurrency.AlwaysInterleave]
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
    public static IEntityGrain GetEntity(this IGrainFactory factory, EntityKind kind, string id) => kind.Info().Resolve(factory, id);
}
