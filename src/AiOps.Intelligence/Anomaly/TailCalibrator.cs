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
    private readonly bool _fitTail;
    private double _alpha = DefaultExponent; // tail exponent used beyond the running maximum
    private int _sinceFit;

    /// <summary>Tail exponent beyond the running maximum when none is fitted: P(Z &gt; z) falls as (max/z)^2.</summary>
    public const double DefaultExponent = 2.0;
    /// <summary>Share of the samples forming the tail the exponent is fitted on (the 98% quantile of SPOT, Siffer et al. 2017).</summary>
    public const double TailShare = 0.02;
    /// <summary>Fewest (effective) tail samples for a fit.</summary>
    public const double MinTailSamples = 10;
    private const int RefitEvery = 16; // cost only: a fit is one pass over the 64 bins

    /// <param name="halfLife">Half-life (samples) of the forgetting histogram.</param>
    /// <param name="fitTail">Extrapolate beyond the running maximum with the tail exponent fitted to the series' own
    /// upper tail (Hill's estimator) instead of the fixed <see cref="DefaultExponent"/>.</param>
    public TailCalibrator(double halfLife, bool fitTail = false)
    {
        _growth = Math.Pow(2.0, 1.0 / Math.Max(1.0, halfLife));
        _fitTail = fitTail;
    }

    /// <summary>Current exponent of the extrapolated tail.</summary>
    public double TailExponent => _alpha;

    /// <summary>
    /// Fits the Pareto exponent of the upper tail: u = lower edge of the bin where the upper mass reaches
    /// <see cref="TailShare"/>, alpha = 1 / mean(ln z - ln u) over the tail (Hill's estimator on bin centres), taken at its
    /// lower 2-sigma bound alpha(1 - 2/sqrt(k)) (standard error alpha/sqrt(k) for k tail samples) so that a short
    /// history does not claim a lighter tail than it shows. Fewer than <see cref="MinTailSamples"/>: the default.
    /// </summary>
    private void FitTail()
    {
        _sinceFit = 0;
        _alpha = DefaultExponent;
        if (_total <= 0) return;
        double need = TailShare * _total;
        if (need / _weight < MinTailSamples) return;
        double mass = 0, lnSum = 0;
        for (int b = Bins - 1; b >= 1; b--)
        {
            mass += _counts[b];
            lnSum += _counts[b] * (LogMin + (b + 0.5) / BinsPerUnit);
            if (mass >= need)
            {
                double excess = Math.Max(lnSum / mass - (LogMin + b / BinsPerUnit), 0.5 / BinsPerUnit);
                double k = mass / _weight;
                _alpha = Math.Clamp((1.0 / excess) * (1 - 2 / Math.Sqrt(k)), DefaultExponent, 12);
                return;
            }
        }
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
        if (z > _maxZ && _maxZ > 0)
        {
            double r = _maxZ / z;
            p *= _alpha == DefaultExponent ? r * r : Math.Pow(r, _alpha); // extrapolate beyond everything seen
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
        if (_fitTail && ++_sinceFit >= RefitEvery) FitTail();
        if (_weight > 1e20)
        {
            // renormalise
            for (int i = 0; i < Bins; i++) _counts[i] = (float)(_counts[i] / _weight);
            _total /= _weight;
            _weight = 1.0;
            RebuildTree();
        }
    }

    public int EstimatedBytes => Bins * 4 + 64;

    public void Write(BinaryWriter w)
    {
        // store normalised to weight 1
        foreach (var c in _counts) w.Write((float)(c / _weight));
        w.Write(_total / _weight);
        w.Write(_maxZ);
        if (_fitTail) { w.Write(_alpha); w.Write(_sinceFit); }
    }

    public void Read(BinaryReader r)
    {
        for (int i = 0; i < Bins; i++) _counts[i] = r.ReadSingle();
        _total = r.ReadDouble();
        _maxZ = r.ReadDouble();
        if (_fitTail) { _alpha = r.ReadDouble(); _sinceFit = r.ReadInt32(); }
        _weight = 1.0;
        RebuildTree();
    }
}
