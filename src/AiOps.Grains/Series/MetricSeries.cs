using AiOps.Abstractions;

namespace AiOps.Grains.Series;

/// <summary>Retention of one series: raw points kept, hourly and daily buckets kept.</summary>
public sealed record SeriesRetention(int RawPoints, int HourlyBuckets, int DailyBuckets)
{
    public static readonly SeriesRetention Default = new(64, 48, 35);
    /// <summary>Spend series of cost centers keep five weeks of hours: the forecaster learns weekly seasonality from them.</summary>
    public static readonly SeriesRetention Spend = new(64, 24 * 35, 400);
}

/// <summary>
/// A bounded metric series: the most recent points at native resolution plus hourly and daily rollups.
/// Its size is fixed by <see cref="SeriesRetention"/> however long the entity runs.
/// </summary>
public sealed class MetricSeries
{
    private readonly long[] _rawT;
    private readonly double[] _rawV;
    private readonly float[] _rawScore; // anomaly score of each raw point, NaN when not scored
    private int _rawHead; // next write slot
    private int _rawCount;
    private readonly BucketRing _hourly;
    private readonly BucketRing _daily;

    public MetricSeries(string name, SeriesRetention retention)
    {
        Name = name;
        Aggregation = MetricVocabulary.AggregationOf(name);
        _rawT = new long[retention.RawPoints];
        _rawV = new double[retention.RawPoints];
        _rawScore = new float[retention.RawPoints];
        Array.Fill(_rawScore, float.NaN);
        var gauge = Aggregation == MetricAggregation.Gauge;
        _hourly = new BucketRing(retention.HourlyBuckets, TimeSpan.FromHours(1), gauge);
        _daily = new BucketRing(retention.DailyBuckets, TimeSpan.FromDays(1), gauge);
    }

    public string Name { get; }
    public MetricAggregation Aggregation { get; }
    public long Points { get; private set; }
    public double Total { get; private set; }
    public double LastValue { get; private set; }
    public long LastTimestampMs { get; private set; } = long.MinValue;

    internal BucketRing Hourly => _hourly;
    internal BucketRing Daily => _daily;

    public int ApproximateBytes => _rawT.Length * 20 + _hourly.ApproximateBytes + _daily.ApproximateBytes + 64;

    /// <summary>Adds a point; returns true when it is in time order (it then joins the raw window).</summary>
    public bool Add(long timestampMs, double value)
    {
        Points++;
        Total += value;
        _hourly.Add(timestampMs, value);
        _daily.Add(timestampMs, value);
        if (timestampMs < LastTimestampMs) return false; // late point: rollups only
        LastTimestampMs = timestampMs;
        LastValue = value;
        _rawT[_rawHead] = timestampMs;
        _rawV[_rawHead] = value;
        _rawScore[_rawHead] = float.NaN;
        _rawHead = (_rawHead + 1) % _rawT.Length;
        if (_rawCount < _rawT.Length) _rawCount++;
        return true;
    }

    /// <summary>Records the anomaly score of the point just added in time order.</summary>
    public void ScoreLast(double score) => _rawScore[(_rawHead - 1 + _rawT.Length) % _rawT.Length] = (float)score;

    /// <summary>Median of the last <paramref name="n"/> raw values before the newest (what "normal" looked like).</summary>
    public double? RecentMedian(int n)
    {
        var values = Raw(n + 1).Select(p => p.Value).ToArray();
        if (values.Length < 2) return null;
        var prior = values[..^1];
        Array.Sort(prior);
        return prior[prior.Length / 2];
    }

    public IEnumerable<(long TimestampMs, double Value)> Raw(int limit) => RawScored(limit).Select(p => (p.TimestampMs, p.Value));

    private IEnumerable<(long TimestampMs, double Value, float Score)> RawScored(int limit)
    {
        var n = Math.Min(limit, _rawCount);
        var start = (_rawHead - n + _rawT.Length) % _rawT.Length;
        for (var k = 0; k < n; k++)
        {
            var i = (start + k) % _rawT.Length;
            yield return (_rawT[i], _rawV[i], _rawScore[i]);
        }
    }

    public double? RawMean(int lastN)
    {
        double sum = 0;
        var n = 0;
        foreach (var (_, v) in Raw(lastN)) { sum += v; n++; }
        return n == 0 ? null : sum / n;
    }

    public double SumBetween(long fromMs, long toMs) => _daily.SumBetween(fromMs, toMs);

    public IReadOnlyList<SeriesPoint> Read(SeriesResolution resolution, int limit)
    {
        if (resolution == SeriesResolution.Raw)
        {
            return RawScored(limit)
                .Select(p => new SeriesPoint(DateTime.UnixEpoch.AddMilliseconds(p.TimestampMs), p.Value, 1, null, null, float.IsNaN(p.Score) ? null : Math.Round(p.Score, 4)))
                .ToList();
        }
        var ring = resolution == SeriesResolution.Hour ? _hourly : _daily;
        var gauge = Aggregation == MetricAggregation.Gauge;
        return ring.Recent(limit)
            .Select(b => new SeriesPoint(
                DateTime.UnixEpoch.AddMilliseconds(b.StartMs),
                gauge ? b.Sum / b.Count : b.Sum,
                b.Count, b.Min, b.Max))
            .ToList();
    }

    internal void Write(BinaryWriter w)
    {
        w.Write(Name);
        w.Write(Points);
        w.Write(Total);
        w.Write(LastValue);
        w.Write(LastTimestampMs);
        w.Write(_rawCount);
        foreach (var (t, v, score) in RawScored(_rawCount)) { w.Write(t); w.Write(v); w.Write(score); }
        _hourly.Write(w);
        _daily.Write(w);
    }

    internal static MetricSeries Read(BinaryReader r, Func<string, SeriesRetention> retentionFor, int format)
    {
        var name = r.ReadString();
        var s = new MetricSeries(name, retentionFor(name))
        {
            Points = r.ReadInt64(),
            Total = r.ReadDouble(),
            LastValue = r.ReadDouble(),
            LastTimestampMs = r.ReadInt64(),
        };
        var n = r.ReadInt32();
        for (var k = 0; k < n; k++)
        {
            var t = r.ReadInt64();
            var v = r.ReadDouble();
            var score = format >= 2 ? r.ReadSingle() : float.NaN;
            if (k >= n - s._rawT.Length) // retention may have shrunk since the state was written
            {
                s._rawT[s._rawHead] = t;
                s._rawV[s._rawHead] = v;
                s._rawScore[s._rawHead] = score;
                s._rawHead = (s._rawHead + 1) % s._rawT.Length;
                if (s._rawCount < s._rawT.Length) s._rawCount++;
            }
        }
        s._hourly.Read(r);
        s._daily.Read(r);
        return s;
    }
}
