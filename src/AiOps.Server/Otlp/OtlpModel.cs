namespace AiOps.Server.Otlp;

/// <summary>
/// One decoded OTLP metrics request (ExportMetricsServiceRequest), the same for protobuf and JSON bodies.
/// Scopes are flattened into their metrics (each metric keeps its scope's name): nothing downstream needs more.
/// </summary>
internal sealed class OtlpRequest
{
    public List<OtlpResource> Resources { get; } = [];
    public int DataPoints { get; set; }
}

internal sealed class OtlpResource
{
    public KeyValuePair<string, string>[] Attributes { get; set; } = [];
    public List<OtlpMetric> Metrics { get; } = [];
}

internal enum OtlpMetricType { None, Gauge, Sum, Histogram, ExponentialHistogram, Summary }

/// <summary>AggregationTemporality of the OTLP data model.</summary>
internal enum OtlpTemporality { Unspecified = 0, Delta = 1, Cumulative = 2 }

internal sealed class OtlpMetric
{
    public string Name { get; set; } = "";
    public string Unit { get; set; } = "";
    public string Scope { get; set; } = "";
    public OtlpMetricType Type { get; set; }
    public OtlpTemporality Temporality { get; set; }
    public bool Monotonic { get; set; }
    public List<OtlpPoint> Points { get; } = new(1); // most metrics of a request hold one point per series, and a point is ~150 bytes
}

/// <summary>Any of the OTLP data point shapes; which fields are set depends on the metric's type.</summary>
internal struct OtlpPoint
{
    public KeyValuePair<string, string>[]? Attributes;
    public ulong StartNs;
    public ulong TimeNs;
    public uint Flags;
    /// <summary>Gauge and sum points: the value (as_double, or as_int converted).</summary>
    public double Value;
    public bool HasValue;
    // histograms and summaries
    public ulong Count;
    public double Sum;
    public bool HasSum;
    public double Min, Max;
    public bool HasMin, HasMax;
    // explicit-bucket histograms
    public double[]? Bounds;
    public ulong[]? BucketCounts;
    // exponential histograms
    public int Scale;
    public ulong ZeroCount;
    public double ZeroThreshold;
    public int PositiveOffset;
    public ulong[]? Positive;
    public int NegativeOffset;
    public ulong[]? Negative;
    // summaries
    public (double Quantile, double Value)[]? Quantiles;

    /// <summary>Data point flag FLAG_NO_RECORDED_VALUE: the point marks a gap (a stale series) and holds no value.</summary>
    public readonly bool NoRecordedValue => (Flags & 1) != 0;
}

/// <summary>The body is not a decodable OTLP request (or breaks a request-wide limit); nothing of it is applied.</summary>
internal sealed class OtlpFormatException(string field, string message, bool tooLarge = false) : Exception(message)
{
    public string Field { get; } = field;
    public bool TooLarge { get; } = tooLarge;
}
