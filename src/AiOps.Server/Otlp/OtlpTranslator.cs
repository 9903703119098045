using System.Collections.Concurrent;
using System.Text;
using AiOps.Abstractions;
using AiOps.Server.Ingestion;

namespace AiOps.Server.Otlp;

/// <summary>The events one OTLP request became, what was rejected and how to undo the cumulative state it moved.</summary>
internal sealed class OtlpTranslation
{
    public required ParsedBatch Batch { get; init; }
    public int DataPoints { get; set; }
    public int Rejected { get; set; }
    /// <summary>Points kept only as the reference of a cumulative series (its first point), or carrying no value.</summary>
    public int ReferenceOnly { get; set; }
    public int CardinalityDrops { get; set; }
    public List<(SeriesState State, SeriesState Before)> Undo { get; } = [];
    public SortedDictionary<string, (int Count, string Example)> Reasons { get; } = new(StringComparer.Ordinal);

    /// <summary>The partial-success message: how many points were rejected, by reason, with one example each.</summary>
    public string ErrorMessage()
    {
        if (Rejected == 0) return "";
        var sb = new StringBuilder();
        sb.Append(Rejected).Append(" of ").Append(DataPoints).Append(" data points rejected");
        foreach (var (reason, (count, example)) in Reasons)
            sb.Append("; ").Append(reason).Append(": ").Append(count).Append(" (e.g. ").Append(example).Append(')');
        return sb.ToString();
    }
}

/// <summary>
/// Turns decoded OTLP metrics into platform telemetry events: entity from the resource (or data point) attributes,
/// metric names from the instrument (or a <see cref="OtlpMetricRule"/>), cumulative values into deltas per series,
/// histograms into count, sum and honest quantiles. Each data point is taken whole or rejected whole.
/// </summary>
internal sealed class OtlpTranslator
{
    private readonly OtlpOptions _options;
    private readonly OtlpSeriesRegistry _registry;
    private readonly Dictionary<string, OtlpMetricRule> _rules;
    private readonly EntityKind _defaultKind;
    private readonly (string Attribute, EntityKind Kind)[] _entityRules;
    private readonly KeyValuePair<string, string>[] _forward;
    private readonly ConcurrentDictionary<string, DefaultNames?> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string?> _templated = new(StringComparer.Ordinal);

    public OtlpTranslator(OtlpOptions options, OtlpSeriesRegistry registry)
    {
        _options = options;
        _registry = registry;
        _rules = options.MetricRules.Where(r => r.Instrument.Length > 0).GroupBy(r => r.Instrument).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        _defaultKind = EntityKinds.TryParse(options.DefaultKind, out var k) ? k : throw new InvalidOperationException($"{OtlpOptions.Section}:DefaultKind '{options.DefaultKind}' is not an entity kind.");
        _entityRules = options.EntityRules.Select(r => (r.Attribute, EntityKinds.TryParse(r.Kind, out var kind) ? kind
            : throw new InvalidOperationException($"{OtlpOptions.Section}:EntityRules: '{r.Kind}' is not an entity kind."))).ToArray();
        _forward = options.ForwardAttributes.ToArray();
    }

    private sealed record DefaultNames(string Value, string Count, string Sum, string[] Quantiles);

    public OtlpTranslation Translate(OtlpRequest request)
    {
        var result = new OtlpTranslation { Batch = ParsedBatch.Rent() };
        var nowMs = _registry.NowMs;
        var maxMs = nowMs + (long)Limits.MaxFutureSkew.TotalMilliseconds;
        var minMs = new DateTimeOffset(Limits.MinTimestamp).ToUnixTimeMilliseconds();
        var events = new List<(string Metric, double Value, bool Id)>(8);
        var index = 0;
        foreach (var resource in request.Resources)
        {
            var resourceHash = OtlpSeriesRegistry.HashAttributes(resource.Attributes);
            var resourceEntity = ResolveEntity(null, resource.Attributes, out var resourceEntityError);
            foreach (var metric in resource.Metrics)
            {
                _rules.TryGetValue(metric.Name, out var rule);
                var names = rule is null ? DefaultNamesFor(metric.Name) : null;
                var scale = rule?.Unit is { Length: > 0 } unit ? UnitScale(metric.Unit, unit) : 1;
                var metricHash = OtlpSeriesRegistry.Combine(OtlpSeriesRegistry.Hash(metric.Scope), OtlpSeriesRegistry.Hash(metric.Name));
                foreach (ref var point in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(metric.Points))
                {
                    var at = index++;
                    result.DataPoints++;
                    if (point.NoRecordedValue) { result.ReferenceOnly++; continue; }

                    // entity
                    EntityKey entity;
                    string? entityError;
                    if (point.Attributes is not null && MentionsEntity(point.Attributes))
                    {
                        var e = ResolveEntity(point.Attributes, resource.Attributes, out entityError);
                        entity = e ?? default;
                        if (e is null) { Reject(result, at, "entity", entityError!); continue; }
                    }
                    else if (resourceEntity is { } re) entity = re;
                    else { Reject(result, at, "entity", resourceEntityError!); continue; }

                    if (names is null && rule is null) { Reject(result, at, "metric", $"metric name '{Truncate(metric.Name)}' cannot be made a platform metric name ([a-z][a-z0-9._]*, at most {Limits.MaxMetricNameLength - 6} characters)."); continue; }
                    if (double.IsNaN(scale)) { Reject(result, at, "unit", $"unit '{metric.Unit}' of '{metric.Name}' cannot be converted to '{rule!.Unit}'."); continue; }

                    // timestamp
                    long timeMs;
                    if (point.TimeNs == 0) timeMs = nowMs;
                    else
                    {
                        timeMs = (long)(point.TimeNs / 1_000_000UL);
                        if (timeMs > maxMs) { Reject(result, at, "timestamp", $"time_unix_nano of '{metric.Name}' is more than 5 minutes in the future."); continue; }
                        if (timeMs < minMs) { Reject(result, at, "timestamp", $"time_unix_nano of '{metric.Name}' is before 2000-01-01."); continue; }
                    }

                    // series and cardinality
                    var pointHash = OtlpSeriesRegistry.HashAttributes(point.Attributes);
                    var entityHash = OtlpSeriesRegistry.Combine((ulong)entity.Kind + 1, OtlpSeriesRegistry.Hash(entity.Id));
                    var metricKey = OtlpSeriesRegistry.Combine(entityHash, metricHash);
                    var seriesKey = OtlpSeriesRegistry.Combine(OtlpSeriesRegistry.Combine(metricKey, resourceHash), pointHash);
                    // The series memory is shared by concurrent requests: held per point, so that a large request does
                    // not keep the others spinning.
                    SeriesState? state;
                    lock (_registry.Gate)
                    {
                        state = _registry.Find(seriesKey, metricKey, nowMs, out var admission);
                        if (state is null)
                        {
                            result.CardinalityDrops++;
                            if (admission == OtlpSeriesRegistry.Admission.OverMetricLimit)
                                Reject(result, at, "cardinality", $"{entity}: metric '{Truncate(metric.Name)}' already has {_options.MaxSeriesPerMetric} attribute sets (AiOps:Otlp:MaxSeriesPerMetric).");
                            else
                                Reject(result, at, "cardinality", $"this server tracks at most {_options.MaxSeries} series (AiOps:Otlp:MaxSeries).");
                            continue;
                        }

                        events.Clear();
                        var before = state.HasReference ? state.Snapshot() : null;
                        var error = Evaluate(metric, ref point, state, rule, names, scale, events, out var moved);
                        if (error is not null)
                        {
                            if (before is not null) state.Restore(before);
                            else state.HasReference = false;
                            Reject(result, at, error.Value.Field, error.Value.Message);
                            continue;
                        }
                        var valid = true;
                        foreach (var (name, value, _) in events)
                        {
                            if (!Limits.IsValidValue(value)) { Reject(result, at, "value", $"'{name}' would be {value}: values must be finite and within ±1e15."); valid = false; break; }
                            if (!Limits.IsValidMetricName(name)) { Reject(result, at, "metric", $"'{Truncate(name)}' is not a valid platform metric name."); valid = false; break; }
                            if (!MetricVocabulary.AppliesTo(name, entity.Kind)) { Reject(result, at, "metric", $"metric '{name}' does not apply to a {entity.Kind.ToWire()} ({entity})."); valid = false; break; }
                        }
                        if (!valid)
                        {
                            if (moved) { if (before is not null) state.Restore(before); else state.HasReference = false; }
                            continue;
                        }
                        if (moved) result.Undo.Add((state, before ?? new SeriesState()));
                    }
                    if (events.Count == 0) { result.ReferenceOnly++; continue; }

                    var attributes = Forwarded(point.Attributes, resource.Attributes);
                    foreach (var (name, value, withId) in events)
                    {
                        var id = withId ? EventId(seriesKey, point.TimeNs, name) : 0;
                        result.Batch.Add(entity, new TelemetryPoint(name, value, timeMs, id, attributes));
                    }
                }
            }
        }
        result.Batch.Total = result.DataPoints;
        return result;
    }

    /// <summary>Puts back the cumulative state a request moved (it was not kept after all: busy, or failed to log).</summary>
    public void Undo(OtlpTranslation translation)
    {
        lock (_registry.Gate)
        {
            for (var i = translation.Undo.Count - 1; i >= 0; i--)
            {
                var (state, before) = translation.Undo[i];
                state.Restore(before);
            }
        }
    }

    private static ulong EventId(ulong seriesKey, ulong timeNs, string metric)
    {
        var h = OtlpSeriesRegistry.Combine(OtlpSeriesRegistry.Combine(seriesKey, timeNs), OtlpSeriesRegistry.Hash(metric));
        return h == 0 ? 1 : h;
    }

    // ---- values -------------------------------------------------------------------------------------------------

    private (string Field, string Message)? Evaluate(OtlpMetric metric, ref OtlpPoint p, SeriesState state, OtlpMetricRule? rule, DefaultNames? names,
        double scale, List<(string, double, bool)> events, out bool moved)
    {
        moved = false;
        switch (metric.Type)
        {
            case OtlpMetricType.Gauge:
            case OtlpMetricType.Sum:
            {
                if (!p.HasValue) return ("value", $"'{metric.Name}' data point has neither as_double nor as_int.");
                var target = rule is null ? names!.Value : rule.Value is { Length: > 0 } v ? Template(v, p.Attributes) : null;
                if (rule is not null && rule.Value is { Length: > 0 } && target is null) return MissingTemplateAttribute(rule.Value, metric.Name);
                if (metric.Type == OtlpMetricType.Gauge || (metric.Temporality == OtlpTemporality.Cumulative && !metric.Monotonic))
                {
                    // A level: gauges, and cumulative up-down counters (their value is the current level).
                    if (target is not null) events.Add((target, p.Value * scale, true));
                    return null;
                }
                if (metric.Temporality == OtlpTemporality.Delta)
                {
                    if (target is not null) events.Add((target, p.Value * scale, true));
                    return null;
                }
                if (metric.Temporality != OtlpTemporality.Cumulative) return ("temporality", $"'{metric.Name}': aggregation_temporality must be delta or cumulative.");
                var delta = CumulativeScalar(ref p, state, out moved);
                if (delta is { } d && target is not null) events.Add((target, d * scale, false));
                return null;
            }
            case OtlpMetricType.Histogram:
            case OtlpMetricType.ExponentialHistogram:
            case OtlpMetricType.Summary:
            {
                var summary = metric.Type == OtlpMetricType.Summary;
                if (!summary && metric.Temporality is not (OtlpTemporality.Delta or OtlpTemporality.Cumulative))
                    return ("temporality", $"'{metric.Name}': aggregation_temporality must be delta or cumulative.");
                if (metric.Type == OtlpMetricType.ExponentialHistogram && !ExponentialLayoutIsSane(ref p))
                    return ("buckets", $"'{metric.Name}': exponential histogram scale must be within -10..20, bucket offsets within ±2^24 and at most {MaxExponentialBuckets} buckets per range.");
                if (metric.Type == OtlpMetricType.Histogram && p.BucketCounts is { } bc && bc.Length != (p.Bounds?.Length ?? 0) + 1 && bc.Length != 0)
                    return ("buckets", $"'{metric.Name}': bucket_counts must have one more entry than explicit_bounds.");
                Interval interval;
                var cumulative = summary || metric.Temporality == OtlpTemporality.Cumulative;
                if (cumulative)
                {
                    var i = CumulativeHistogram(metric.Type, ref p, state, out moved);
                    if (i is null) return null; // reference only, or not newer than what was seen
                    interval = i.Value;
                }
                else interval = new Interval(p.Count, p.Sum, p.HasSum, p.BucketCounts, p.Positive, p.PositiveOffset, p.Negative, p.NegativeOffset, p.ZeroCount, true);

                string? countName, sumName, meanName = null, errorName = null;
                string[]? quantileNames;
                IReadOnlyList<double> quantiles;
                if (rule is null)
                {
                    (countName, sumName, quantileNames, quantiles) = (names!.Count, names.Sum, names.Quantiles, _options.Quantiles);
                }
                else
                {
                    countName = rule.Count is { Length: > 0 } c ? Template(c, p.Attributes) : null;
                    sumName = rule.Sum is { Length: > 0 } s ? Template(s, p.Attributes) : null;
                    meanName = rule.Mean is { Length: > 0 } m ? Template(m, p.Attributes) : null;
                    if ((rule.Count is { Length: > 0 } && countName is null) || (rule.Sum is { Length: > 0 } && sumName is null) || (rule.Mean is { Length: > 0 } && meanName is null))
                        return MissingTemplateAttribute(rule.Sum ?? rule.Count ?? rule.Mean ?? "", metric.Name);
                    if (rule.ErrorAttribute is { Length: > 0 } ea && rule.ErrorCount is { Length: > 0 } ec && Attribute(p.Attributes, ea) is not null) errorName = ec;
                    quantiles = rule.QuantilePrefix is { Length: > 0 } ? _options.Quantiles : [];
                    quantileNames = rule.QuantilePrefix is { Length: > 0 } qp ? _options.Quantiles.Select(q => $"{qp}.{HistogramQuantiles.Suffix(q)}").ToArray() : null;
                }
                if (countName is not null) events.Add((countName, interval.Count, !cumulative));
                if (errorName is not null) events.Add((errorName, interval.Count, !cumulative));
                if (sumName is not null && interval.HasSum) events.Add((sumName, interval.Sum * scale, !cumulative));
                if (meanName is not null && interval.HasSum && interval.Count > 0) events.Add((meanName, interval.Sum / interval.Count * scale, !cumulative));
                if (quantileNames is not null && interval.Count > 0)
                {
                    double? min = p.HasMin ? p.Min : null, max = p.HasMax ? p.Max : null;
                    for (var k = 0; k < quantiles.Count; k++)
                    {
                        var q = quantiles[k];
                        double? value = metric.Type switch
                        {
                            OtlpMetricType.Histogram when interval.Buckets is { } b && interval.BucketsValid => HistogramQuantiles.Explicit(p.Bounds ?? [], b, q, min, max),
                            OtlpMetricType.ExponentialHistogram when interval.BucketsValid => HistogramQuantiles.Exponential(p.Scale, interval.ZeroCount, p.ZeroThreshold,
                                interval.PositiveOffset, interval.Positive ?? [], interval.NegativeOffset, interval.Negative ?? [], q, min, max),
                            OtlpMetricType.Summary => SummaryQuantile(p.Quantiles, q),
                            _ => null,
                        };
                        if (value is { } qv) events.Add((quantileNames[k], qv * scale, !cumulative || summary));
                    }
                }
                return null;
            }
            default:
                return ("metric", $"'{metric.Name}' holds no gauge, sum, histogram, exponential histogram or summary.");
        }
    }

    private const int MaxExponentialBuckets = 16_384;

    private static bool ExponentialLayoutIsSane(ref OtlpPoint p) =>
        p.Scale is >= -10 and <= 20
        && Math.Abs((long)p.PositiveOffset) <= 1 << 24 && Math.Abs((long)p.NegativeOffset) <= 1 << 24
        && (p.Positive?.Length ?? 0) <= MaxExponentialBuckets && (p.Negative?.Length ?? 0) <= MaxExponentialBuckets;

    private static double? SummaryQuantile((double Quantile, double Value)[]? quantiles, double q)
    {
        if (quantiles is null) return null;
        foreach (var (quantile, value) in quantiles) if (Math.Abs(quantile - q) < 1e-9) return value;
        return null;
    }

    private static (string, string) MissingTemplateAttribute(string template, string metric) =>
        ("attribute", $"'{metric}' maps to '{template}', but the data point lacks that attribute (or its value is not a metric-name segment).");

    /// <summary>
    /// The increase since the previous point of a cumulative monotonic series, or null when the point only becomes
    /// the reference (the first point of a series that began before this process) or is not newer than the last one.
    /// </summary>
    private double? CumulativeScalar(ref OtlpPoint p, SeriesState state, out bool moved)
    {
        moved = false;
        if (state.HasReference && p.TimeNs != 0 && p.TimeNs <= state.LastTimeNs) return null; // a retry or out of order: seen already
        double? delta;
        if (!state.HasReference) delta = StartedHere(p.StartNs) ? p.Value : null;
        else if (p.StartNs != 0 && p.StartNs != state.StartNs) delta = p.Value;       // a reset with a new start time
        else if (p.Value < state.LastValue) delta = p.Value;                            // a reset the producer did not date
        else delta = p.Value - state.LastValue;
        state.HasReference = true;
        state.StartNs = p.StartNs;
        state.LastTimeNs = p.TimeNs;
        state.LastValue = p.Value;
        moved = true;
        return delta;
    }

    /// <summary>The auto rule of the collector's cumulative-to-delta: a series whose start is after this receiver began was seen whole here.</summary>
    private bool StartedHere(ulong startNs) => startNs != 0 && startNs >= _registry.StartedNs;

    private readonly record struct Interval(ulong Count, double Sum, bool HasSum, ulong[]? Buckets, ulong[]? Positive, int PositiveOffset,
        ulong[]? Negative, int NegativeOffset, ulong ZeroCount, bool BucketsValid);

    private Interval? CumulativeHistogram(OtlpMetricType type, ref OtlpPoint p, SeriesState state, out bool moved)
    {
        moved = false;
        if (state.HasReference && p.TimeNs != 0 && p.TimeNs <= state.LastTimeNs) return null;
        var whole = new Interval(p.Count, p.Sum, p.HasSum, p.BucketCounts, p.Positive, p.PositiveOffset, p.Negative, p.NegativeOffset, p.ZeroCount, true);
        Interval? result;
        if (!state.HasReference) result = StartedHere(p.StartNs) ? whole : null;
        else if ((p.StartNs != 0 && p.StartNs != state.StartNs) || p.Count < state.LastCount) result = whole;
        else
        {
            var count = p.Count - state.LastCount;
            var sum = p.Sum - state.LastSum;
            ulong[]? buckets = null, positive = null, negative = null;
            var valid = true;
            var zero = p.ZeroCount >= state.ZeroCount ? p.ZeroCount - state.ZeroCount : 0;
            if (type == OtlpMetricType.Histogram)
            {
                valid = p.BucketCounts is { } now && state.Buckets is { } was && now.Length == was.Length && BoundsEqual(p.Bounds, state.Bounds);
                if (valid) valid = Subtract(p.BucketCounts!, 0, state.Buckets!, 0, out buckets, out _);
            }
            int positiveOffset = 0, negativeOffset = 0;
            if (type == OtlpMetricType.ExponentialHistogram)
            {
                // The SDK may lower the scale as values spread; the older counts are merged down to the new scale first.
                valid = p.Scale <= state.Scale && p.ZeroCount >= state.ZeroCount;
                if (valid)
                {
                    var (po, pc) = Downscale(state.PositiveOffset, state.Positive, state.Scale - p.Scale);
                    var (no, nc) = Downscale(state.NegativeOffset, state.Negative, state.Scale - p.Scale);
                    valid = Subtract(p.Positive ?? [], p.PositiveOffset, pc, po, out positive, out positiveOffset)
                         && Subtract(p.Negative ?? [], p.NegativeOffset, nc, no, out negative, out negativeOffset);
                }
            }
            result = new Interval(count, sum, p.HasSum, buckets, positive, positiveOffset, negative, negativeOffset, zero, valid);
        }
        state.HasReference = true;
        state.StartNs = p.StartNs;
        state.LastTimeNs = p.TimeNs;
        state.LastCount = p.Count;
        state.LastSum = p.Sum;
        state.Bounds = p.Bounds;
        state.Buckets = p.BucketCounts;
        state.Scale = p.Scale;
        state.ZeroCount = p.ZeroCount;
        state.PositiveOffset = p.PositiveOffset;
        state.Positive = p.Positive;
        state.NegativeOffset = p.NegativeOffset;
        state.Negative = p.Negative;
        moved = true;
        return result;
    }

    private static bool BoundsEqual(double[]? a, double[]? b) => (a ?? []).AsSpan().SequenceEqual(b ?? []);

    /// <summary>Merges exponential buckets to a coarser scale: index k becomes k >> by.</summary>
    internal static (int Offset, ulong[] Counts) Downscale(int offset, ulong[]? counts, int by)
    {
        if (counts is null || counts.Length == 0) return (0, []);
        if (by == 0) return (offset, counts);
        var first = offset >> by;
        var last = (offset + counts.Length - 1) >> by;
        var merged = new ulong[last - first + 1];
        for (var j = 0; j < counts.Length; j++) merged[((offset + j) >> by) - first] += counts[j];
        return (first, merged);
    }

    /// <summary>now - was, index-aligned (each array starts at its offset); false when any bucket went down.</summary>
    internal static bool Subtract(ulong[] now, int nowOffset, ulong[] was, int wasOffset, out ulong[] delta, out int deltaOffset)
    {
        if (was.Length == 0) { delta = now; deltaOffset = nowOffset; return true; }
        if (now.Length == 0) { delta = []; deltaOffset = 0; foreach (var w in was) if (w != 0) return false; return true; }
        deltaOffset = Math.Min(nowOffset, wasOffset);
        var end = Math.Max(nowOffset + now.Length, wasOffset + was.Length);
        delta = new ulong[end - deltaOffset];
        for (var j = 0; j < now.Length; j++) delta[nowOffset - deltaOffset + j] = now[j];
        for (var j = 0; j < was.Length; j++)
        {
            ref var slot = ref delta[wasOffset - deltaOffset + j];
            if (slot < was[j]) return false;
            slot -= was[j];
        }
        return true;
    }

    // ---- names, units, entities ---------------------------------------------------------------------------------

    private DefaultNames? DefaultNamesFor(string instrument)
    {
        if (_names.TryGetValue(instrument, out var cached)) return cached;
        if (_names.Count > 10_000) _names.Clear();
        var name = MetricName(instrument);
        DefaultNames? names = null;
        if (name is not null && name.Length <= Limits.MaxMetricNameLength - 6)
        {
            var vocabulary = MetricVocabulary.Find(name)?.Name ?? name;
            names = new DefaultNames(vocabulary, name + ".count", name + ".sum", _options.Quantiles.Select(q => $"{name}.{HistogramQuantiles.Suffix(q)}").ToArray());
        }
        _names[instrument] = names;
        return names;
    }

    /// <summary>An OTLP instrument name as a platform metric name: lower case, anything but [a-z0-9._] becomes '_'.</summary>
    internal static string? MetricName(string instrument)
    {
        if (instrument.Length == 0 || instrument.Length > Limits.MaxMetricNameLength) return null;
        var chars = new char[instrument.Length];
        for (var i = 0; i < instrument.Length; i++)
        {
            var c = char.ToLowerInvariant(instrument[i]);
            chars[i] = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' ? c : '_';
        }
        var name = new string(chars);
        return Limits.IsValidMetricName(name) ? name : null;
    }

    /// <summary>A rule target with <c>{attribute}</c> placeholders filled from the data point (lower-cased).</summary>
    private string? Template(string template, KeyValuePair<string, string>[]? attributes)
    {
        var open = template.IndexOf('{');
        if (open < 0) return template;
        var close = template.IndexOf('}', open);
        if (close < 0) return template;
        var value = Attribute(attributes, template[(open + 1)..close]);
        if (value is null) return null;
        var key = template + "\u0000" + value;
        if (_templated.TryGetValue(key, out var cached)) return cached;
        if (_templated.Count > 10_000) _templated.Clear();
        var segment = MetricName(value);
        var filled = segment is null ? null : template[..open] + segment + template[(close + 1)..];
        _templated[key] = filled;
        return filled;
    }

    private static string? Attribute(KeyValuePair<string, string>[]? attributes, string key)
    {
        if (attributes is null) return null;
        foreach (var kv in attributes) if (kv.Key == key) return kv.Value;
        return null;
    }

    /// <summary>Factor from the metric's unit to <paramref name="target"/>; NaN when the units do not convert. An empty unit is taken as the target unit.</summary>
    internal static double UnitScale(string unit, string target)
    {
        if (unit.Length == 0 || unit == target) return 1;
        var from = Seconds(unit);
        var to = Seconds(target);
        return from is null || to is null ? double.NaN : from.Value / to.Value;

        static double? Seconds(string u) => u switch
        {
            "ns" => 1e-9,
            "us" or "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1,
            "min" => 60,
            "h" => 3600,
            "d" => 86400,
            _ => null,
        };
    }

    private bool MentionsEntity(KeyValuePair<string, string>[] attributes)
    {
        foreach (var kv in attributes)
        {
            if (kv.Key == _options.EntityIdAttribute || kv.Key == _options.EntityKindAttribute) return true;
            foreach (var (attribute, _) in _entityRules) if (kv.Key == attribute) return true;
        }
        return false;
    }

    /// <summary>The entity named by the data point's attributes, else the resource's; null with a reason when none is.</summary>
    private EntityKey? ResolveEntity(KeyValuePair<string, string>[]? point, KeyValuePair<string, string>[] resource, out string? error)
    {
        error = null;
        var id = Attribute(point, _options.EntityIdAttribute) ?? Attribute(resource, _options.EntityIdAttribute);
        string? source = _options.EntityIdAttribute;
        EntityKind kind;
        if (id is not null)
        {
            var kindText = Attribute(point, _options.EntityKindAttribute) ?? Attribute(resource, _options.EntityKindAttribute);
            if (kindText is null) kind = _defaultKind;
            else if (!EntityKinds.TryParse(kindText, out kind))
            {
                error = $"{_options.EntityKindAttribute} '{Truncate(kindText)}' is not a known entity kind.";
                return null;
            }
        }
        else
        {
            kind = default;
            source = null;
            foreach (var (attribute, ruleKind) in _entityRules)
            {
                id = Attribute(point, attribute) ?? Attribute(resource, attribute);
                if (id is not null) { kind = ruleKind; source = attribute; break; }
            }
            if (id is null)
            {
                error = $"no entity: set the resource attribute {_options.EntityIdAttribute} (and {_options.EntityKindAttribute})" +
                        (_entityRules.Length > 0 ? $", or {string.Join(" or ", _entityRules.Select(r => r.Attribute))}" : "") + ".";
                return null;
            }
        }
        if (!Limits.IsValidId(id))
        {
            error = $"entity id '{Truncate(id)}' from {source} must be 1-{Limits.MaxIdLength} characters of letters, digits and . _ - : @.";
            return null;
        }
        return new EntityKey(kind, id);
    }

    private KeyValuePair<string, string>[]? Forwarded(KeyValuePair<string, string>[]? point, KeyValuePair<string, string>[] resource)
    {
        if (_forward.Length == 0) return null;
        List<KeyValuePair<string, string>>? list = null;
        foreach (var (from, to) in _forward)
        {
            var value = Attribute(point, from) ?? Attribute(resource, from);
            if (value is null || value.Length > Limits.MaxAttributeValueLength) continue;
            (list ??= []).Add(new(to, value));
        }
        return list?.ToArray();
    }

    private static void Reject(OtlpTranslation result, int index, string field, string message)
    {
        result.Rejected++;
        var batch = result.Batch;
        if (batch.Rejections.Count < Limits.MaxRejectionsReported) batch.Rejections.Add(new Rejection(index, null, field, message));
        batch.RejectedByReason[field] = batch.RejectedByReason.GetValueOrDefault(field) + 1;
        result.Reasons[field] = result.Reasons.TryGetValue(field, out var r) ? (r.Count + 1, r.Example) : (1, message);
    }

    private static string Truncate(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
