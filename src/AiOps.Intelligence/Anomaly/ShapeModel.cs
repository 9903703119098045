using AiOps.Intelligence.Internal;

namespace AiOps.Intelligence.Anomaly;

/// <summary>
/// Shape component: a PCA subspace (ML.NET RandomizedPca) of mean-removed windows of the series, optionally of
/// block means (<see cref="Aggregation"/> points per element, a coarser time scale). The raw score of a point is the
/// absolute reconstruction error of the window ending at it, relative to the median training error (at least 1 % of the
/// training windows' RMS size).
/// </summary>
internal sealed class ShapeModel
{
    public int Length { get; }
    public int Aggregation { get; }
    public TailCalibrator Calibrator { get; }
    private PcaSubspace? _pca;
    private double _scale = 1, _err = 1;

    public ShapeModel(int length, int aggregation, double halfLife)
    {
        Length = length; Aggregation = Math.Max(1, aggregation);
        Calibrator = new TailCalibrator(halfLife);
    }

    public bool Ready => _pca is not null;
    public int Span => Length * Aggregation;

    /// <summary>Raw score of the window ending at <paramref name="current"/>; earlier values come from the ring buffer <paramref name="buf"/> whose next write index is <paramref name="head"/>.</summary>
    public double Raw(double current, double[] buf, int head)
    {
        int L = Length, g = Aggregation, n = buf.Length;
        Span<float> w = stackalloc float[L];
        for (int j = 0; j < L; j++)
        {
            int o0 = (L - 1 - j) * g;
            double s = 0;
            for (int q = 0; q < g; q++)
            {
                int o = o0 + q;
                if (o == 0) { s += current; continue; }
                int i = head - o;
                if (i < 0) i += n;
                if (i < 0) i += n;
                s += buf[i];
            }
            w[j] = (float)(s / g);
        }
        Normalise(w);
        return Math.Sqrt(_pca!.ResidualSquared(w)) / _err;
    }

    private void Normalise(Span<float> w) => Normalise(w, _scale);

    private static void Normalise(Span<float> w, double scale)
    {
        double mean = 0;
        foreach (var f in w) mean += f;
        mean /= w.Length;
        double inv = 1.0 / scale;
        for (int i = 0; i < w.Length; i++) w[i] = (float)((w[i] - mean) * inv);
    }

    /// <summary>Fits the subspace on windows of <paramref name="hist"/> (oldest first) and installs it. Returns false when too short.</summary>
    public bool Train(double[] hist, int rank, int maxWindows)
    {
        if (Fit(hist, rank, maxWindows) is not { } fit) return false;
        Install(fit);
        return true;
    }

    /// <summary>
    /// Installs a fit made by <see cref="Fit"/>. The calibration history is kept; the first fit seeds it with the
    /// raw scores of its own training windows, so that the first points scored by the new component are compared
    /// with a few hundred errors instead of the handful seen since the training (an empty calibrator turns the
    /// first ordinary errors into extreme surprises).
    /// </summary>
    public void Install(ShapeFit fit)
    {
        _scale = fit.Scale;
        _err = fit.MedianError;
        _pca = fit.Subspace;
        if (Calibrator.EffectiveCount == 0)
            foreach (var e in fit.TrainingErrors) Calibrator.Add(e / fit.MedianError);
    }

    /// <summary>
    /// Fits the subspace on windows of <paramref name="hist"/> (oldest first) without changing this model:
    /// safe to run on another thread while the model keeps scoring. Null when the history is too short.
    /// </summary>
    public ShapeFit? Fit(double[] hist, int rank, int maxWindows)
    {
        int L = Length, g = Aggregation;
        // block means at every end position t: m[t] = mean(hist[t-g+1..t])
        int n = hist.Length;
        if (n < g * L + 32) return null;
        var m = new double[n - g + 1];
        double run = 0;
        for (int i = 0; i < n; i++)
        {
            run += hist[i];
            if (i >= g) run -= hist[i - g];
            if (i >= g - 1) m[i - g + 1] = run / g;
        }
        // scale: median absolute change between consecutive blocks; for a series that mostly repeats its last value
        // (on/off loads, counters, sparse spikes), the 90th percentile or else the mean change, so that the scale is in
        // the data's units and the windows stay within float precision; 1e-6 only for a history without any change
        var diffs = new List<double>(m.Length / g);
        for (int i = g; i < m.Length; i += 1) diffs.Add(Math.Abs(m[i] - m[i - g]));
        var d = diffs.ToArray();
        Array.Sort(d);
        double scale = Robust.QuantileSorted(d, 0.5);
        if (scale <= 0) scale = Robust.QuantileSorted(d, 0.9);
        if (scale <= 0) scale = d.Average();
        if (scale <= 0) scale = 1e-6 + 1e-6 * Math.Abs(hist[^1]);

        // windows: element j of the window ending at block index e is m[e - (L-1-j)*g]
        int firstEnd = (L - 1) * g;
        int nWin = m.Length - firstEnd;
        if (nWin < 32) return null;
        int stride = Math.Max(1, nWin / maxWindows);
        var windows = new List<float[]>(nWin / stride + 1);
        for (int e = m.Length - 1; e >= firstEnd; e -= stride)
        {
            var w = new float[L];
            for (int j = 0; j < L; j++) w[j] = (float)m[e - (L - 1 - j) * g];
            Normalise(w, scale);
            windows.Add(w);
        }
        var pca = PcaSubspace.Fit(windows, rank);
        var errs = new double[windows.Count];
        for (int i = 0; i < windows.Count; i++) errs[i] = Math.Sqrt(pca.ResidualSquared(windows[i]));
        var chronological = new double[errs.Length]; // windows were taken newest first
        for (int i = 0; i < errs.Length; i++) chronological[i] = errs[errs.Length - 1 - i];
        Array.Sort(errs);
        // the unit of the raw score: the median training error, but at least 1 % of the windows' RMS size. When most
        // windows are reconstructed exactly (a flat stretch between the edges of a square wave or between sparse spikes),
        // their median error is float rounding and PCA centring noise, which changed by orders of magnitude from one
        // training to the next while the calibration history stayed in the old unit (an alarm after a re-training).
        double med = Robust.QuantileSorted(errs, 0.5);
        double sumSquares = 0;
        foreach (var w in windows) foreach (var f in w) sumSquares += (double)f * f;
        med = Math.Max(med, 0.01 * Math.Sqrt(sumSquares / windows.Count));
        if (med <= 0) med = 1e-3;
        return new ShapeFit(scale, med, pca, chronological);
    }

    public int EstimatedBytes => (_pca?.EstimatedBytes ?? 0) + Calibrator.EstimatedBytes + 64;

    public void Write(BinaryWriter w)
    {
        w.Write(_scale); w.Write(_err);
        Calibrator.Write(w);
        w.Write(_pca is not null);
        _pca?.Write(w);
    }

    public void Read(BinaryReader r, bool normalisedCalibrator = false)
    {
        _scale = r.ReadDouble(); _err = r.ReadDouble();
        Calibrator.Read(r, normalisedCalibrator);
        _pca = r.ReadBoolean() ? PcaSubspace.Read(r) : null;
    }
}

/// <summary>A fitted shape subspace: window scale, median training error, the subspace itself and the errors of its training windows (oldest first).</summary>
internal sealed record ShapeFit(double Scale, double MedianError, PcaSubspace Subspace, double[] TrainingErrors);
