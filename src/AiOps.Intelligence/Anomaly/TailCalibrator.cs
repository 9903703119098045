namespace AiOps.Intelligence.Anomaly;

/// <summary>
/// Online, exponentially forgetting histogram of a non-negative raw score (log-binned).
/// Turns a raw score into a surprise -log10 P(score' >= score) relative to the series' own history,
/// so that scores of different components and series become comparable and noisy series
/// re-learn what "normal" looks like.
/// </summary>
internal sealed class TailCalibrator
{
    private const int Bins = 64;
    // Values seen before the maximum anchors the extrapolation beyond it: the warm-up the residual's scale also takes
    // (a plain running mean over its first 50 points). With two or three values the maximum is no tail: a seasonal view
    // whose period had just come into use extrapolated from two near-zero values to a surprise of 5.9 (score 0.96).
    private const double MinCountToExtrapolate = 50;
    private const double LogMin = -4.0;     // ln z lower edge
    private const double BinsPerUnit = 6.0; // bins per unit of ln z -> covers ln z in [-4, 6.67)
    private readonly float[] _counts = new float[Bins];
    // Fenwick tree over the bins in reverse order (tree position r+1 holds bin Bins-1-r): the upper-tail sum a
    // surprise needs costs log2(Bins) steps instead of a pass over the bins. It is derived from _counts and rebuilt
    // from them whenever they are rescaled or read.
    private readonly double[] _tail = new double[Bins + 1];
    private double _lastZ = double.NaN;      // Surprise(z) is followed by Add(z): the bin is computed once
    private int _lastBin;
    private double _weight = 1.0;            // weight of the next sample (grows instead of decaying all bins)
    private double _total;
    private double _maxZ;                    // decayed running maximum
    private readonly double _growth;

    public TailCalibrator(double halfLife)
    {
        _growth = Math.Pow(2.0, 1.0 / Math.Max(1.0, halfLife));
    }

    public double EffectiveCount => _total / _weight;

    private int CachedBinOf(double z)
    {
        if (z == _lastZ) return _lastBin;
        _lastZ = z;
        return _lastBin = BinOf(z);
    }

    /// <summary>Sum of the counts of bins above <paramref name="bin"/>.</summary>
    private double SumAbove(int bin)
    {
        double sum = 0;
        for (int i = Bins - 1 - bin; i > 0; i -= i & -i) sum += _tail[i];
        return sum;
    }

    private void AddToTree(int bin, double delta)
    {
        for (int i = Bins - bin; i <= Bins; i += i & -i) _tail[i] += delta;
    }

    private void RebuildTree()
    {
        Array.Clear(_tail);
        for (int b = 0; b < Bins; b++) AddToTree(b, _counts[b]);
    }

    private static int BinOf(double z)
    {
        if (z <= 0) return 0;
        int b = (int)((Math.Log(z) - LogMin) * BinsPerUnit);
        return Math.Clamp(b, 0, Bins - 1);
    }

    /// <summary>Surprise (-log10 of the upper tail probability) of <paramref name="z"/>, before adding it.</summary>
    public double Surprise(double z)
    {
        if (_total <= 0) return 0;
        int b = CachedBinOf(z);
        double above = SumAbove(b) + 0.5 * _counts[b];
        double n = _total / _weight;                 // effective sample size
        double p = (above / _weight + 0.5) / (n + 1.0);
        if (z > _maxZ && _maxZ > 0 && n >= MinCountToExtrapolate)
        {
            double r = _maxZ / z;
            p *= r * r;                              // extrapolate beyond everything seen
        }
        return -Math.Log10(Math.Max(p, 1e-12));
    }

    public void Add(double z)
    {
        int b = CachedBinOf(z);
        float before = _counts[b];
        _counts[b] += (float)_weight;
        AddToTree(b, (double)_counts[b] - before);
        _total += _weight;
        _maxZ = Math.Max(z, _maxZ / _growth);
        _weight *= _growth;
        if (_weight > 1e20)
        {
            // renormalise
            for (int i = 0; i < Bins; i++) _counts[i] = (float)(_counts[i] / _weight);
            _total /= _weight;
            _weight = 1.0;
            RebuildTree();
        }
    }

    /// <summary>Forgets everything seen.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        Array.Clear(_tail);
        _total = 0;
        _maxZ = 0;
        _weight = 1.0;
        _lastZ = double.NaN;
    }

    public int EstimatedBytes => Bins * 4 + (Bins + 1) * 8 + 64;

    public void Write(BinaryWriter w)
    {
        // as held, so that a calibrator read back continues bit for bit: the counts at the current weight, and the tail
        // sums as accumulated (a tree rebuilt from the counts rounds differently)
        foreach (var c in _counts) w.Write(c);
        w.Write(_weight);
        w.Write(_total);
        w.Write(_maxZ);
        foreach (var t in _tail) w.Write(t);
    }

    /// <param name="r">The reader.</param>
    /// <param name="normalised">Written before the detector's format 3: the counts and total divided by the weight, no tail sums.</param>
    public void Read(BinaryReader r, bool normalised = false)
    {
        for (int i = 0; i < Bins; i++) _counts[i] = r.ReadSingle();
        _weight = normalised ? 1.0 : r.ReadDouble();
        _total = r.ReadDouble();
        _maxZ = r.ReadDouble();
        _lastZ = double.NaN;
        if (normalised) RebuildTree();
        else for (int i = 0; i < _tail.Length; i++) _tail[i] = r.ReadDouble();
    }
}
