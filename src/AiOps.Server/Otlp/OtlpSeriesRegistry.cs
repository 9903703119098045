using System.IO.Hashing;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Otlp;

/// <summary>
/// What this process remembers per OTLP series (entity + resource attributes + scope + metric + data point
/// attributes): the cardinality bound per entity and metric, and the last cumulative point that deltas are taken
/// against. Bounded: at most <see cref="OtlpOptions.MaxSeriesPerMetric"/> series per entity and metric and
/// <see cref="OtlpOptions.MaxSeries"/> in all; series idle for <see cref="OtlpOptions.SeriesIdleTimeout"/> are forgotten.
/// In memory only and per process: after a restart, or on another front end, a cumulative series starts again from a
/// reference point (see the README's OTLP section). Callers hold <see cref="Gate"/> while they read or change it.
/// </summary>
public sealed class OtlpSeriesRegistry
{
    private readonly OtlpOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<ulong, SeriesState> _series = [];
    private readonly Dictionary<ulong, int> _perMetric = [];
    private long _nextSweepMs;

    public OtlpSeriesRegistry(IOptions<OtlpOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        StartedNs = (ulong)time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000UL;
    }

    /// <summary>When this registry (so this process's receiver) began, in Unix nanoseconds.</summary>
    public ulong StartedNs { get; }

    public object Gate { get; } = new();

    public int Count => _series.Count;

    internal enum Admission { Known, New, OverMetricLimit, OverTotalLimit }

    /// <summary>The series' state, creating it within the bounds. Call under <see cref="Gate"/>.</summary>
    internal SeriesState? Find(ulong seriesKey, ulong metricKey, long nowMs, out Admission admission)
    {
        if (nowMs >= _nextSweepMs) Sweep(nowMs);
        ref var slot = ref CollectionsMarshal.GetValueRefOrNullRef(_series, seriesKey);
        if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref slot))
        {
            slot.LastSeenMs = nowMs;
            admission = Admission.Known;
            return slot;
        }
        ref var perMetric = ref CollectionsMarshal.GetValueRefOrAddDefault(_perMetric, metricKey, out _);
        if (perMetric >= _options.MaxSeriesPerMetric)
        {
            admission = Admission.OverMetricLimit;
            if (perMetric == 0) _perMetric.Remove(metricKey);
            return null;
        }
        if (_series.Count >= _options.MaxSeries)
        {
            admission = Admission.OverTotalLimit;
            if (perMetric == 0) _perMetric.Remove(metricKey);
            return null;
        }
        perMetric++;
        var state = new SeriesState { MetricKey = metricKey, LastSeenMs = nowMs };
        _series.Add(seriesKey, state);
        admission = Admission.New;
        return state;
    }

    private void Sweep(long nowMs)
    {
        _nextSweepMs = nowMs + 60_000;
        var idleBefore = nowMs - (long)_options.SeriesIdleTimeout.TotalMilliseconds;
        List<ulong>? stale = null;
        foreach (var (key, state) in _series)
        {
            if (state.LastSeenMs < idleBefore) (stale ??= []).Add(key);
        }
        if (stale is null) return;
        foreach (var key in stale)
        {
            var state = _series[key];
            _series.Remove(key);
            if (--CollectionsMarshal.GetValueRefOrAddDefault(_perMetric, state.MetricKey, out _) <= 0) _perMetric.Remove(state.MetricKey);
        }
    }

    internal long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    // ---- hashing: 64-bit keys stand for series (a collision would need ~2^32 series) ----

    internal static ulong Hash(string s) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(s.AsSpan()));

    internal static ulong Combine(ulong a, ulong b) => unchecked(System.Numerics.BitOperations.RotateLeft(a * 0x9E3779B97F4A7C15UL, 27) ^ (b * 0xC2B2AE3D27D4EB4FUL) ^ (b >> 31));

    /// <summary>Hash of an attribute set, independent of the attributes' order.</summary>
    internal static ulong HashAttributes(KeyValuePair<string, string>[]? attributes)
    {
        if (attributes is null) return 0x51ED27UL;
        ulong sum = 0x51ED27UL;
        foreach (var kv in attributes) sum = unchecked(sum + Combine(Hash(kv.Key), Hash(kv.Value)));
        return sum;
    }
}

/// <summary>One series' memory. Arrays are replaced, never changed in place, so a shallow copy is a snapshot.</summary>
internal sealed class SeriesState
{
    public ulong MetricKey;
    public long LastSeenMs;
    public bool HasReference;
    public ulong StartNs;
    public ulong LastTimeNs;
    public double LastValue;
    public ulong LastCount;
    public double LastSum;
    public double[]? Bounds;
    public ulong[]? Buckets;
    public int Scale;
    public ulong ZeroCount;
    public int PositiveOffset;
    public ulong[]? Positive;
    public int NegativeOffset;
    public ulong[]? Negative;

    public SeriesState Snapshot() => (SeriesState)MemberwiseClone();

    public void Restore(SeriesState from)
    {
        HasReference = from.HasReference;
        StartNs = from.StartNs;
        LastTimeNs = from.LastTimeNs;
        LastValue = from.LastValue;
        LastCount = from.LastCount;
        LastSum = from.LastSum;
        Bounds = from.Bounds;
        Buckets = from.Buckets;
        Scale = from.Scale;
        ZeroCount = from.ZeroCount;
        PositiveOffset = from.PositiveOffset;
        Positive = from.Positive;
        NegativeOffset = from.NegativeOffset;
        Negative = from.Negative;
    }
}
