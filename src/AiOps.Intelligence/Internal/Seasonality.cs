namespace AiOps.Intelligence.Internal;

/// <summary>Detects a dominant seasonal period from the autocorrelation function.</summary>
public static class Seasonality
{
    /// <summary>
    /// Returns the best period (in steps) among <paramref name="candidates"/> (if given) and local ACF peaks
    /// in [minPeriod, n/3], or 0 when no autocorrelation reaches <paramref name="minAcf"/>.
    /// NaNs are ignored. The series is first differenced at lag 1 if it has a strong trend.
    /// <paramref name="requireCycle"/>: a candidate must also correlate more at its period than at half of it.
    /// </summary>
    public static int Detect(ReadOnlySpan<double> values, IReadOnlyList<int>? candidates = null, int minPeriod = 4, double minAcf = 0.3, int maxPeriod = int.MaxValue, double longerPeriodMargin = 0.1, bool requireCycle = false, bool isolatedOutliers = false)
    {
        // the detrended copy is pooled: detectors call this between trainings, and it must not allocate per call
        var x = System.Buffers.ArrayPool<double>.Shared.Rent(Math.Max(1, values.Length));
        double[]? kept = null;
        try
        {
            if (isolatedOutliers)
            {
                kept = System.Buffers.ArrayPool<double>.Shared.Rent(Math.Max(1, values.Length));
                if (WithoutIsolatedOutliers(values, kept)) values = kept.AsSpan(0, values.Length);
            }
            return Detect(values, x, candidates, minPeriod, minAcf, maxPeriod, longerPeriodMargin, requireCycle);
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(x);
            if (kept is not null) System.Buffers.ArrayPool<double>.Shared.Return(kept);
        }
    }

    /// <summary>
    /// Copies the values with those beyond Tukey's far-out fences (quartiles -/+ 3 interquartile ranges) set to NaN, when
    /// there are at most two of them: fewer than the three periods a test holds, they cannot be part of a seasonal
    /// pattern, and one of them can dominate the autocorrelation. False (nothing to leave out) otherwise.
    /// </summary>
    private static bool WithoutIsolatedOutliers(ReadOnlySpan<double> values, double[] r)
    {
        int n = 0;
        for (int i = 0; i < values.Length; i++) if (!double.IsNaN(values[i])) r[n++] = values[i];
        if (n < 8) return false;
        Array.Sort(r, 0, n);
        double q1 = r[n / 4], q3 = r[3 * n / 4], iqr = q3 - q1;
        double lo = q1 - 3 * iqr, hi = q3 + 3 * iqr;
        int outside = 0;
        for (int i = 0; i < n; i++) if (r[i] < lo || r[i] > hi) outside++;
        if (outside == 0 || outside > 2) return false;
        for (int i = 0; i < values.Length; i++) r[i] = values[i] < lo || values[i] > hi ? double.NaN : values[i];
        return true;
    }

    private static int Detect(ReadOnlySpan<double> values, double[] x, IReadOnlyList<int>? candidates, int minPeriod, double minAcf, int maxPeriod, double longerPeriodMargin, bool requireCycle)
    {
        int n = values.Length;
        if (n < 3 * minPeriod) return 0;
        double mean = 0; int cnt = 0;
        for (int i = 0; i < n; i++) if (!double.IsNaN(values[i])) { mean += values[i]; cnt++; }
        if (cnt < 3 * minPeriod) return 0;
        mean /= cnt;
        // remove a linear trend (least squares over index) so that trend does not masquerade as long-period ACF
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < n; i++)
        {
            if (double.IsNaN(values[i])) continue;
            sx += i; sy += values[i]; sxx += (double)i * i; sxy += i * values[i];
        }
        double den = cnt * sxx - sx * sx;
        double slope = den > 0 ? (cnt * sxy - sx * sy) / den : 0;
        double icpt = (sy - slope * sx) / cnt;
        double var = 0;
        for (int i = 0; i < n; i++)
        {
            x[i] = double.IsNaN(values[i]) ? 0 : values[i] - (icpt + slope * i);
            var += x[i] * x[i];
        }
        if (var <= 1e-12 * cnt) return 0;
        int maxLag = Math.Min(maxPeriod, n / 3);
        if (maxLag < minPeriod) return 0;

        double Acf(int lag) => Dot(x.AsSpan(lag, n - lag), x.AsSpan(0, n - lag)) / var * n / (n - lag);

        int best = 0; double bestAcf = minAcf;
        if (candidates is { Count: > 0 })
        {
            foreach (var p in candidates)
            {
                if (p < minPeriod || p > maxLag) continue;
                double a = Acf(p);
                // a cycle, not mere persistence: a slowly varying series also correlates with itself a day later, but
                // then more so half a day later; a seasonal one correlates less at half its period than at its period
                if (requireCycle && a <= Acf(p / 2)) continue;
                // prefer the shorter period unless the longer one is clearly stronger
                if (a > bestAcf + (best == 0 ? 0 : longerPeriodMargin)) { best = p; bestAcf = a; }
            }
            return best;
        }
        // generic search: local maxima of the ACF
        var acf = new double[maxLag + 2];
        for (int lag = 1; lag <= Math.Min(maxLag + 1, n - 1); lag++) acf[lag] = Acf(lag);
        // the shortest local maximum whose autocorrelation is close to the best one: multiples of the true
        // period (2p, 3p, ...) are local maxima too and can be marginally higher
        double top = 0;
        for (int lag = minPeriod; lag <= maxLag; lag++)
            if (acf[lag] > acf[lag - 1] && acf[lag] >= acf[lag + 1]) top = Math.Max(top, acf[lag]);
        if (top < minAcf) return 0;
        for (int lag = minPeriod; lag <= maxLag; lag++)
        {
            if (acf[lag] > acf[lag - 1] && acf[lag] >= acf[lag + 1] && acf[lag] >= Math.Max(minAcf, top - 0.1))
                return lag;
        }
        return best;
    }

    /// <summary>
    /// The dot product of two equally long spans, in SIMD lanes with two independent accumulators. The autocorrelations
    /// of a training's test (up to 1,000 lags over 2,048 points), summed one product after another, were a third of a
    /// detector's time on series shaped like the ingest bench's (perf); the sum is the same up to rounding (the order of
    /// the additions differs).
    /// </summary>
    internal static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length, i = 0;
        double s = 0;
        int w = System.Numerics.Vector<double>.Count;
        if (System.Numerics.Vector.IsHardwareAccelerated && n >= 2 * w)
        {
            var acc0 = System.Numerics.Vector<double>.Zero;
            var acc1 = System.Numerics.Vector<double>.Zero;
            for (; i <= n - 2 * w; i += 2 * w)
            {
                acc0 += new System.Numerics.Vector<double>(a.Slice(i, w)) * new System.Numerics.Vector<double>(b.Slice(i, w));
                acc1 += new System.Numerics.Vector<double>(a.Slice(i + w, w)) * new System.Numerics.Vector<double>(b.Slice(i + w, w));
            }
            s = System.Numerics.Vector.Sum(acc0 + acc1);
        }
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }
}
