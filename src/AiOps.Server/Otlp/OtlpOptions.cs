namespace AiOps.Server.Otlp;

/// <summary>
/// Settings of the OTLP metrics receiver (<c>AiOps:Otlp</c>). The defaults are what the README documents; every
/// list can be replaced from configuration (an appsettings list replaces the default list whole).
/// </summary>
public sealed class OtlpOptions
{
    public const string Section = "AiOps:Otlp";

    /// <summary>Largest number of data points one request may carry (413 above it).</summary>
    public int MaxDataPointsPerRequest { get; set; } = 20_000;

    /// <summary>
    /// Distinct series (resource attributes + scope + data point attributes) kept per entity and metric; data points
    /// of further series are rejected, counted and reported in the reply's partial success.
    /// </summary>
    public int MaxSeriesPerMetric { get; set; } = 100;

    /// <summary>Series tracked in this process in all (cumulative state and the cardinality bound), across entities.</summary>
    public int MaxSeries { get; set; } = 200_000;

    /// <summary>A series not seen for this long is forgotten (its cardinality slot and cumulative reference freed).</summary>
    public TimeSpan SeriesIdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Resource or data point attribute naming the entity kind (pipeline, model, costcenter).</summary>
    public string EntityKindAttribute { get; set; } = "aiops.entity.kind";

    /// <summary>Resource or data point attribute naming the entity id; it wins over <see cref="EntityRules"/>.</summary>
    public string EntityIdAttribute { get; set; } = "aiops.entity.id";

    /// <summary>Kind used when <see cref="EntityIdAttribute"/> is set without <see cref="EntityKindAttribute"/>.</summary>
    public string DefaultKind { get; set; } = "model";

    /// <summary>
    /// Tried in order when no entity id attribute is present: the first rule whose attribute is set (on the data point,
    /// else on the resource) names the entity: its kind, the attribute's value as id.
    /// </summary>
    public List<OtlpEntityRule> EntityRules { get; set; } = [new() { Attribute = "service.name", Kind = "model" }];

    /// <summary>Attributes (data point first, then resource) copied onto the events under the platform's own key.</summary>
    public Dictionary<string, string> ForwardAttributes { get; set; } = new() { ["service.version"] = "version" };

    /// <summary>Quantiles derived from histogram buckets for metrics without a rule (as <c>&lt;name&gt;.p50</c> …).</summary>
    public List<double> Quantiles { get; set; } = [0.5, 0.95];

    /// <summary>Instruments with their own mapping (matched on the OTLP metric name). Default: the GenAI conventions.</summary>
    public List<OtlpMetricRule> MetricRules { get; set; } =
    [
        new()
        {
            Instrument = "gen_ai.client.operation.duration",
            Count = "predictions",
            Mean = "latency_ms",
            Unit = "ms",
            ErrorAttribute = "error.type",
            ErrorCount = "errors",
        },
        new()
        {
            Instrument = "gen_ai.client.token.usage",
            Sum = "tokens.{gen_ai.token.type}",
        },
    ];
}

public sealed class OtlpEntityRule
{
    public string Attribute { get; set; } = "";
    public string Kind { get; set; } = "model";
}

/// <summary>
/// How one OTLP instrument becomes platform metrics. Targets may hold <c>{attribute}</c>, replaced by that data point
/// attribute's value (lower-cased; a point without it is rejected). A target left empty is not emitted.
/// For gauges and sums <see cref="Value"/> applies; for histograms and summaries the count, sum, mean and quantiles.
/// </summary>
public sealed class OtlpMetricRule
{
    public string Instrument { get; set; } = "";
    /// <summary>Gauge and sum points: the metric the (delta) value goes to.</summary>
    public string? Value { get; set; }
    /// <summary>Histograms: the metric the number of measurements in the interval goes to.</summary>
    public string? Count { get; set; }
    /// <summary>Histograms: the metric the sum of the interval's measurements goes to.</summary>
    public string? Sum { get; set; }
    /// <summary>Histograms: the metric the interval's mean (sum / count) goes to.</summary>
    public string? Mean { get; set; }
    /// <summary>Histograms: prefix of derived quantiles (<c>&lt;prefix&gt;.p95</c>); empty: none.</summary>
    public string? QuantilePrefix { get; set; }
    /// <summary>Unit the values are converted to (from the metric's own unit: s, ms, us, ns, min, h); empty: as sent.</summary>
    public string? Unit { get; set; }
    /// <summary>Histograms: data points carrying this attribute also count (their count) into <see cref="ErrorCount"/>.</summary>
    public string? ErrorAttribute { get; set; }
    public string? ErrorCount { get; set; }
}
