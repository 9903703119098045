using AiOps.Abstractions;

namespace AiOps.Grains.Entities;

/// <summary>
/// Persisted state of an entity grain (System.Text.Json). Series and id windows travel as one compressed
/// binary blob: they are the bulk of the state and their size is bounded by retention.
/// </summary>
public sealed class EntityState
{
    public int SchemaVersion { get; set; } = 1;
    public EntityMetadata Metadata { get; set; } = EntityMetadata.Empty;
    public bool Registered { get; set; }
    public long? FirstSeenMs { get; set; }
    public long? LastSeenMs { get; set; }
    public long EventsApplied { get; set; }
    public long DuplicatesDropped { get; set; }
    public long PointsDropped { get; set; }

    /// <summary>Pipeline: when its freshness SLA was set (a pipeline that never succeeded is stale only once it has passed).</summary>
    public long? SlaSinceMs { get; set; }

    /// <summary>When <see cref="EntityMetadata.MaxSilenceSeconds"/> was set (an entity that never reported is silent from then on).</summary>
    public long? SilenceSinceMs { get; set; }

    /// <summary>
    /// Edge state of the time-driven rules: the rule signals (by <c>AlertKind</c> name) last sent as firing. Persisted
    /// with the state, so a grain woken from storage neither repeats a firing signal nor forgets to send the resolving one.
    /// </summary>
    public HashSet<string> FiringRules { get; set; } = [];

    /// <summary>
    /// Per ingest-log partition (embedded mode: 0), the position this state covers: every logged point of this entity
    /// from that partition up to it is applied here.
    /// </summary>
    public Dictionary<int, long> LogPositions { get; set; } = [];

    /// <summary>Sums of Sum-aggregated metrics per UTC month (key: year*12 + month-1), the last three months.</summary>
    public Dictionary<int, Dictionary<string, double>> MonthSums { get; set; } = [];

    /// <summary>Spend per month by the <c>service</c> attribute of <c>cost</c> points.</summary>
    public Dictionary<int, Dictionary<string, double>> CostByService { get; set; } = [];

    /// <summary>Spend per month by the <c>resource</c> attribute of <c>cost</c> points.</summary>
    public Dictionary<int, Dictionary<string, double>> CostByResource { get; set; } = [];

    /// <summary>Model versions seen (newest last), at most 20.</summary>
    public List<ModelVersionInfo> Versions { get; set; } = [];
    public string? CurrentVersion { get; set; }
    public long CurrentVersionAtMs { get; set; }

    public List<OpenAnomaly> OpenAnomalies { get; set; } = [];

    /// <summary>
    /// Per metric with an open anomaly episode, the normal points in a row since its last anomalous one (the episode
    /// closes at <c>NormalPointsToClose</c>). Persisted: a grain collected between its points (hourly, daily data) counts on.
    /// </summary>
    public Dictionary<string, int> NormalRuns { get; set; } = [];

    /// <summary>Cost center: highest budget threshold (50/80/100 %) already signalled, and for which month.</summary>
    public int BudgetAlertLevel { get; set; }
    public int BudgetAlertMonth { get; set; }

    /// <summary>Pipeline: start times (Unix ms) of runs that have started and not yet ended, by run id (bounded, oldest dropped).</summary>
    public Dictionary<string, long>? RunStarts { get; set; }

    /// <summary>Pipeline: end times of runs whose end came before their start (bounded likewise).</summary>
    public Dictionary<string, long>? RunEnds { get; set; }

    /// <summary>Pipeline: the latest failed run's error message and run id.</summary>
    public string? LastError { get; set; }
    public string? LastErrorRunId { get; set; }
    public long? LastErrorAtMs { get; set; }

    /// <summary>Dataset: what its facets said (schema, owners, …).</summary>
    public DatasetFacts? DatasetFacts { get; set; }

    /// <summary>Series, recent event ids and recent batch ids, Brotli-compressed.</summary>
    public byte[]? Data { get; set; }
}
