namespace AiOps.Grains.Entities;

/// <summary>Tuning of entity grains (configuration section <c>AiOps:Grains</c>).</summary>
public sealed class EntityGrainOptions
{
    public const string Section = "AiOps:Grains";

    /// <summary>Write-behind period of entity state. A crash loses at most this much of applied telemetry.</summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often an entity pushes its digest to the value grain (only when it changed).</summary>
    public TimeSpan DigestInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest wait between the timer checks of an entity that receives nothing. Its digest check and its write-behind
    /// check each double their wait (from <see cref="DigestInterval"/> and <see cref="PersistInterval"/>) whenever they find
    /// nothing to do, up to this; the next point applied, metadata change or rule edge brings both back at once, so an
    /// active entity keeps both periods. Time-driven rules, freshness and silence do not wait for these checks: they have
    /// deadlines of their own (<see cref="RuleCheckInterval"/>). At 10,000 idle entities the fixed periods woke the silo
    /// about 5,700 times a second.
    /// </summary>
    public TimeSpan IdleCheckInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often each silo looks for rule deadlines that have passed (freshness of idle pipelines).</summary>
    public TimeSpan RuleCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Score every in-order point of every series with the online anomaly detector.</summary>
    public bool Detection { get; set; } = true;

    /// <summary>
    /// Score at or above which a point is anomalous (opens an anomaly episode and fires an alert signal); in (0, 1).
    /// The detectors start their refractory period at this level, so each incident is reported once when it reaches it.
    /// </summary>
    public double AlarmThreshold { get; set; } = 0.8;

    /// <summary>
    /// Re-train detectors inside the entity's turn (a few milliseconds per training, every 2,048 points of a series) instead
    /// of on the background trainer. The scores are then exactly those of <c>aiops detect --alarm-score</c> with this
    /// alarm threshold on the same points; with the background trainer a new model is adopted at the first point after
    /// it is ready, which depends on timing. Default off.
    /// </summary>
    public bool InlineDetectorTraining { get; set; }

    /// <summary>Consecutive normal points that close an anomaly episode (and tell the alerting path the series is normal).</summary>
    public int NormalPointsToClose { get; set; } = 10;

    /// <summary>
    /// Write-behind period of detector models, each written after the entity's state. After a crash a detector resumes
    /// from its last write and is fed the points its entity kept since (the raw window: 64 per series); relearned from
    /// scratch if it was never written.
    /// </summary>
    public TimeSpan ModelPersistInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a cost center refreshes its spend forecast (when new spend arrived).</summary>
    public TimeSpan ForecastInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Event ids remembered per entity for deduplication.</summary>
    public int RecentEventIds { get; set; } = 512;

    /// <summary>Stream batch ids remembered per entity (redelivery by at-least-once streams).</summary>
    public int RecentBatchIds { get; set; } = 64;
}
