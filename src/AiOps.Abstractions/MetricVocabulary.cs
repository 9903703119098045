namespace AiOps.Abstractions;

/// <summary>How points of a metric combine inside a time bucket.</summary>
public enum MetricAggregation
{
    /// <summary>Each point is an amount for its moment (runs, rows, predictions, spend): buckets add up.</summary>
    Sum = 0,
    /// <summary>Each point is a level (latency, accuracy): buckets keep mean, min, max.</summary>
    Gauge = 1,
}

/// <summary>One metric of the shared vocabulary.</summary>
public sealed record MetricDefinition(
    string Name,
    string Unit,
    MetricAggregation Aggregation,
    IReadOnlyList<EntityKind> Kinds,
    string Description);

/// <summary>
/// The one vocabulary of metric names across DataOps, MLOps and FinOps. Any other well-formed name is
/// accepted as a custom gauge series; a vocabulary name sent for a kind it does not apply to is rejected.
/// </summary>
public static class MetricVocabulary
{
    public const string RunSuccess = "run.success";
    public const string RunFailure = "run.failure";
    public const string RunStarted = "run.started";
    public const string RunAborted = "run.aborted";
    public const string DatasetWrites = "dataset.writes";
    public const string RunDurationSeconds = "run.duration_seconds";
    public const string RowsIn = "rows.in";
    public const string RowsOut = "rows.out";
    public const string DataQualityFailures = "dq.failures";
    public const string Predictions = "predictions";
    public const string Errors = "errors";
    public const string LatencyMs = "latency_ms";
    public const string Accuracy = "accuracy";
    public const string Drift = "drift";
    public const string Value = "value";
    public const string Cost = "cost";
    public const string TokensInput = "tokens.input";
    public const string TokensOutput = "tokens.output";

    /// <summary>Attribute keys with a meaning to the platform.</summary>
    public static class Attributes
    {
        public const string Version = "version";
        public const string Service = "service";
        public const string Resource = "resource";
        public const string Currency = "currency";
        public const string RunId = "run_id";
        /// <summary>On <c>run.failure</c>: the run's error message (kept as the pipeline's last error).</summary>
        public const string Error = "error";
    }

    private static readonly EntityKind[] PipelineOnly = [EntityKind.Pipeline];
    private static readonly EntityKind[] ModelOnly = [EntityKind.Model];
    private static readonly EntityKind[] DatasetOnly = [EntityKind.Dataset];
    private static readonly EntityKind[] PipelineOrDataset = [EntityKind.Pipeline, EntityKind.Dataset];
    private static readonly EntityKind[] All = [EntityKind.Pipeline, EntityKind.Model, EntityKind.CostCenter, EntityKind.Dataset];

    public static readonly IReadOnlyList<MetricDefinition> Definitions =
    [
        new(RunSuccess, "runs", MetricAggregation.Sum, PipelineOnly, "A pipeline run completed successfully (value = number of runs, usually 1)."),
        new(RunFailure, "runs", MetricAggregation.Sum, PipelineOnly, "A pipeline run failed (value = number of runs, usually 1)."),
        new(RunStarted, "runs", MetricAggregation.Sum, PipelineOnly, "A pipeline run started (attribute run_id: a later run.success/run.failure with the same run_id gets its duration)."),
        new(RunAborted, "runs", MetricAggregation.Sum, PipelineOnly, "A pipeline run was aborted (counted apart from failures; raises no failure alert)."),
        new(RunDurationSeconds, "s", MetricAggregation.Gauge, PipelineOnly, "Wall-clock duration of one pipeline run."),
        new(RowsIn, "rows", MetricAggregation.Sum, PipelineOnly, "Rows read by a run."),
        new(RowsOut, "rows", MetricAggregation.Sum, PipelineOrDataset, "Rows written by a run (on a dataset: rows written into it)."),
        new(DataQualityFailures, "checks", MetricAggregation.Sum, PipelineOrDataset, "Failed data-quality checks."),
        new(DatasetWrites, "writes", MetricAggregation.Sum, DatasetOnly, "A completed run wrote the dataset (its latest point is the dataset's last write)."),
        new(Predictions, "predictions", MetricAggregation.Sum, ModelOnly, "Predictions served since the previous point."),
        new(Errors, "errors", MetricAggregation.Sum, ModelOnly, "Failed predictions since the previous point."),
        new(LatencyMs, "ms", MetricAggregation.Gauge, ModelOnly, "Serving latency of the model (e.g. p95 over the reporting interval)."),
        new(Accuracy, "ratio", MetricAggregation.Gauge, ModelOnly, "Online accuracy or quality score in [0,1]."),
        new(Drift, "score", MetricAggregation.Gauge, ModelOnly, "Data or prediction drift score (higher is more drift)."),
        new(Value, "currency", MetricAggregation.Sum, ModelOnly, "Business value the model delivered (revenue or savings attributed)."),
        new(TokensInput, "tokens", MetricAggregation.Sum, ModelOnly, "Input (prompt) tokens a generative model consumed (OTLP gen_ai.client.token.usage, gen_ai.token.type=input)."),
        new(TokensOutput, "tokens", MetricAggregation.Sum, ModelOnly, "Output (completion) tokens a generative model produced (OTLP gen_ai.client.token.usage, gen_ai.token.type=output)."),
        new(Cost, "currency", MetricAggregation.Sum, All, "Spend incurred (attributes: service, resource, currency). Report each cost once: on its cost center or on the entity that incurred it."),
    ];

    private static readonly Dictionary<string, MetricDefinition> ByName =
        Definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);

    public static MetricDefinition? Find(string name) => ByName.GetValueOrDefault(name);

    // Vocabulary names as UTF-8, bucketed by length, for the parser's allocation-free lookup.
    private static readonly (byte[] Utf8, string Name)[][] ByLength = BuildByLength();

    private static (byte[], string)[][] BuildByLength()
    {
        var max = Definitions.Max(d => d.Name.Length);
        var buckets = new (byte[], string)[max + 1][];
        for (var n = 0; n <= max; n++)
            buckets[n] = Definitions.Where(d => d.Name.Length == n).Select(d => (System.Text.Encoding.UTF8.GetBytes(d.Name), d.Name)).ToArray();
        return buckets;
    }

    /// <summary>
    /// The vocabulary's own string for a metric name given as UTF-8, if it is one: events then share one string
    /// per metric instead of allocating one each, and later comparisons of the name find equal references.
    /// </summary>
    public static bool TryGetName(ReadOnlySpan<byte> utf8, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name)
    {
        if (utf8.Length < ByLength.Length)
        {
            foreach (var (bytes, candidate) in ByLength[utf8.Length])
            {
                if (utf8.SequenceEqual(bytes)) { name = candidate; return true; }
            }
        }
        name = null;
        return false;
    }

    /// <summary>Aggregation of a metric: vocabulary metrics as defined, custom metrics as gauges.</summary>
    public static MetricAggregation AggregationOf(string name) =>
        ByName.TryGetValue(name, out var d) ? d.Aggregation : MetricAggregation.Gauge;

    /// <summary>False when <paramref name="name"/> is a vocabulary metric that does not apply to <paramref name="kind"/>.</summary>
    public static bool AppliesTo(string name, EntityKind kind) =>
        !ByName.TryGetValue(name, out var d) || d.Kinds.Contains(kind);
}
