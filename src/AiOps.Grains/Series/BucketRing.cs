namespace AiOps.Grains.Series;

/// <summary>
/// Fixed-size ring of time buckets (hourly or daily rollups). Bucket i lives in slot i % capacity and is
/// valid while newest - capacity &lt; i &lt;= newest, so no per-slot index is stored. Buckets older than
/// the ring are dropped on arrival.
/// </summary>
internal sealed class BucketRing
{
    private readonly long _bucketMs;
    private readonly bool _trackRange;
    private readonly int[] _count;
    private readonly double[] _sum;
    private readonly double[]? _min;
    private readonly double[]? _max;
    private long _newest = long.MinValue;

    public BucketRing(int capacity, TimeSpan bucket, bool trackRange)
    {
        Capacity = capacity;
        _bucketMs = (long)bucket.TotalMilliseconds;
        _trackRange = trackRange;
        _count = new int[capacity];
        _sum = new double[capacity];
        if (trackRange)
        {
            _min = new double[capacity];
            _max = new double[capacity];
        }
    }

    public int Capacity { get; }
    public long BucketMs => _bucketMs;

    public int ApproximateBytes => Capacity * (4 + 8 + (_trackRange ? 16 : 0));

    public void Add(long timestampMs, double value)
    {
        var index = Math.DivRem(timestampMs, _bucketMs, out var rem);
        if (rem < 0) index--;
        if (_newest == long.MinValue)
        {
            _newest = index;
        }
        else if (index > _newest)
        {
            // Clear the slots of the buckets we skip over (at most the whole ring).
            var steps = Math.Min(index - _newest, Capacity);
            for (long k = 1; k <= steps; k++) Clear(Slot(_newest + k));
            _newest = index;
        }
        else if (index <= _newest - Capacity)
        {
            return; // older than this rollup keeps
        }

        var s = Slot(index);
        if (_count[s] == 0)
        {
            _sum[s] = value;
            if (_trackRange) { _min![s] = value; _max![s] = value; }
        }
        else
        {
            _sum[s] += value;
            if (_trackRange)
            {
                if (value < _min![s]) _min[s] = value;
                if (value > _max![s]) _max[s] = value;
            }
        }
        _count[s]++;
    }

    /// <summary>Sum over the buckets whose start lies in [fromMs, toMs).</summary>
    public double SumBetween(long fromMs, long toMs)
    {
        if (_newest == long.MinValue) return 0;
        double total = 0;
        for (long i = _newest; i > _newest - Capacity; i--)
        {
            var start = i * _bucketMs;
            if (start >= toMs) continue;
            if (start < fromMs) break;
            var s = Slot(i);
            if (_count[s] > 0) total += _sum[s];
        }
        return total;
    }

    /// <summary>Up to <paramref name="limit"/> most recent non-empty buckets, oldest first.</summary>
    public IEnumerable<Bucket> Recent(int limit)
    {
        if (_newest == long.MinValue) yield break;
        var first = Math.Max(_newest - Capacity + 1, _newest - limit + 1);
        for (long i = first; i <= _newest; i++)
        {
            var s = Slot(i);
            if (_count[s] == 0) continue;
            yield return new Bucket(i * _bucketMs, _count[s], _sum[s],
                _trackRange ? _min![s] : null, _trackRange ? _max![s] : null);
        }
    }

    /// <summary>The last <paramref name="length"/> buckets ending at the newest, empty buckets as NaN (a regular series for models).</summary>
    public double[] RegularSums(int length, out long firstBucketStartMs)
    {
        length = Math.Min(length, Capacity);
        var result = new double[length];
        if (_newest == long.MinValue)
        {
            firstBucketStartMs = 0;
            Array.Fill(result, double.NaN);
            return result;
        }
        var first = _newest - length + 1;
        firstBucketStartMs = first * _bucketMs;
        for (var k = 0; k < length; k++)
        {
            var s = Slot(first + k);
            result[k] = _count[s] == 0 ? double.NaN : _sum[s];
        }
        return result;
    }

    public long NewestIndex => _newest;

    private int Slot(long index) => (int)(((index % Capacity) + Capacity) % Capacity);

    private void Clear(int slot)
    {
        _count[slot] = 0;
        _sum[slot] = 0;
    }

    public void Write(BinaryWriter w)
    {
        w.Write(_newest);
        if (_newest == long.MinValue) return;
        // Only non-empty slots: (slot, count, sum[, min, max]).
        var used = 0;
        for (var i = 0; i < Capacity; i++) if (_count[i] > 0) used++;
        w.Write(used);
        for (var i = 0; i < Capacity; i++)
        {
            if (_count[i] == 0) continue;
            w.Write((ushort)i);
            w.Write(_count[i]);
            w.Write(_sum[i]);
            if (_trackRange) { w.Write(_min![i]); w.Write(_max![i]); }
        }
    }

    public void Read(BinaryReader r)
    {
        _newest = r.ReadInt64();
        if (_newest == long.MinValue) return;
        var used = r.ReadInt32();
        for (var k = 0; k < used; k++)
        {
            int i = r.ReadUInt16();
            var count = r.ReadInt32();
            var sum = r.ReadDouble();
            double min = 0, max = 0;
            if (_trackRange) { min = r.ReadDouble(); max = r.ReadDouble(); }
            if (i >= Capacity) continue; // retention shrank since the state was written
            _count[i] = count;
            _sum[i] = sum;
            if (_trackRange) { _min![i] = min; _max![i] = max; }
        }
    }
}

internal readonly record struct Bucket(long StartMs, int Count, double Sum, double? Min, double? Max);
