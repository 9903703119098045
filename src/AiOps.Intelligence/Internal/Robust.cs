namespace AiOps.Intelligence.Internal;

/// <summary>Small robust-statistics helpers (allocation-free where it matters).</summary>
internal static class Robust
{
    /// <summary>Median of a small span; sorts a copy in <paramref name="scratch"/>.</summary>
    public static double Median(ReadOnlySpan<double> values, Span<double> scratch)
    {
        int n = 0;
        foreach (var v in values)
        {
            if (!double.IsNaN(v)) scratch[n++] = v;
        }
        if (n == 0) return double.NaN;
        if (n == 8) return MedianOf8(scratch);
        var s = scratch[..n];
        if (n <= 16)
        {
            // Insertion sort: the detector takes medians of 8 values twice per point, where the general sort's
            // set-up cost dominated. Same order, same median.
            for (int i = 1; i < n; i++)
            {
                double x = s[i];
                int j = i - 1;
                while (j >= 0 && s[j] > x) { s[j + 1] = s[j]; j--; }
                s[j + 1] = x;
            }
        }
        else s.Sort();
        return (n & 1) == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    /// <summary>
    /// Median of exactly 8 (non-NaN) values: a 19-comparator sorting network (checked against all 0/1 inputs) of
    /// branch-free min/max. The detector takes two such medians per point; a comparison sort mispredicted its way
    /// through them.
    /// </summary>
    private static double MedianOf8(Span<double> v)
    {
        double a0 = v[0], a1 = v[1], a2 = v[2], a3 = v[3], a4 = v[4], a5 = v[5], a6 = v[6], a7 = v[7];
        Swap(ref a0, ref a2); Swap(ref a1, ref a3); Swap(ref a4, ref a6); Swap(ref a5, ref a7);
        Swap(ref a0, ref a4); Swap(ref a1, ref a5); Swap(ref a2, ref a6); Swap(ref a3, ref a7);
        Swap(ref a0, ref a1); Swap(ref a2, ref a3); Swap(ref a4, ref a5); Swap(ref a6, ref a7);
        Swap(ref a2, ref a4); Swap(ref a3, ref a5);
        Swap(ref a1, ref a4); Swap(ref a3, ref a6);
        Swap(ref a1, ref a2); Swap(ref a3, ref a4); Swap(ref a5, ref a6);
        return 0.5 * (a3 + a4);

        static void Swap(ref double x, ref double y)
        {
            double lo = Math.Min(x, y), hi = Math.Max(x, y);
            x = lo; y = hi;
        }
    }

    public static double Median(IEnumerable<double> values)
    {
        var a = values.Where(v => !double.IsNaN(v)).ToArray();
        if (a.Length == 0) return double.NaN;
        Array.Sort(a);
        return (a.Length & 1) == 1 ? a[a.Length / 2] : 0.5 * (a[a.Length / 2 - 1] + a[a.Length / 2]);
    }

    /// <summary>Quantile (linear interpolation) of an already sorted array.</summary>
    public static double QuantileSorted(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        if (sorted.Length == 1) return sorted[0];
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        double f = pos - lo;
        return sorted[lo] * (1 - f) + sorted[hi] * f;
    }

    /// <summary>Median absolute deviation scaled to a normal sigma.</summary>
    public static double Mad(IReadOnlyList<double> values, double median)
    {
        var d = values.Where(v => !double.IsNaN(v)).Select(v => Math.Abs(v - median)).ToArray();
        if (d.Length == 0) return 0;
        Array.Sort(d);
        return 1.4826 * QuantileSorted(d, 0.5);
    }

    /// <summary>Standard normal CDF (Abramowitz-Stegun 7.1.26 via erf).</summary>
    public static double NormalCdf(double z)
    {
        double t = 1.0 / (1.0 + 0.3275911 * Math.Abs(z) / Math.Sqrt(2));
        double y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
                   * Math.Exp(-z * z / 2);
        return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
    }

    /// <summary>Inverse standard normal CDF (Acklam's approximation).</summary>
    public static double NormalQuantile(double p)
    {
        if (p <= 0) return double.NegativeInfinity;
        if (p >= 1) return double.PositiveInfinity;
        double[] a = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
        double[] b = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
        double[] c = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
        double[] d = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00 };
        const double plow = 0.02425, phigh = 1 - plow;
        double q, r;
        if (p < plow)
        {
            q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > phigh)
        {
            q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        q = p - 0.5;
        r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
}
