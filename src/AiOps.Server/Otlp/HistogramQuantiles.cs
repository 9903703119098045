namespace AiOps.Server.Otlp;

/// <summary>
/// Quantiles derived from histogram buckets, and only where that is honest: the rank is located in its bucket and
/// interpolated linearly between the bucket's bounds, so the estimate is off by at most the bucket's width. A rank that
/// falls in an open-ended bucket (below the first explicit bound or above the last) has no honest estimate unless the
/// point's min or max closes that bucket; then no quantile is emitted for it. Min and max, when sent, also clamp every
/// bucket (a cumulative min/max still bounds any interval inside the cumulative period).
/// </summary>
public static class HistogramQuantiles
{
    /// <summary>Explicit-bucket histogram: <paramref name="counts"/> has one more entry than <paramref name="bounds"/>.</summary>
    public static double? Explicit(ReadOnlySpan<double> bounds, ReadOnlySpan<ulong> counts, double q, double? min, double? max)
    {
        if (counts.Length != bounds.Length + 1 || q is < 0 or > 1) return null;
        ulong total = 0;
        foreach (var c in counts) total += c;
        if (total == 0) return null;
        var rank = q * total;
        double before = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0) continue;
            if (before + counts[i] >= rank || i == counts.Length - 1)
            {
                var lower = i == 0 ? min : bounds[i - 1];
                var upper = i == bounds.Length ? max : bounds[i];
                if (min is { } mn && lower is { } l && mn > l) lower = mn;
                if (max is { } mx && upper is { } u && mx < u) upper = mx;
                if (lower is null || upper is null || !double.IsFinite(lower.Value) || !double.IsFinite(upper.Value)) return null;
                if (upper < lower) upper = lower;
                var within = Math.Clamp((rank - before) / counts[i], 0, 1);
                return lower.Value + (upper.Value - lower.Value) * within;
            }
            before += counts[i];
        }
        return null;
    }

    /// <summary>
    /// Exponential histogram: bucket index k of the positive range covers (base^k, base^(k+1)], base = 2^(2^-scale);
    /// negative buckets mirror it; the zero bucket covers [-zeroThreshold, zeroThreshold]. Every bucket is bounded, so
    /// every quantile has an estimate whose relative error is at most base - 1.
    /// </summary>
    public static double? Exponential(int scale, ulong zeroCount, double zeroThreshold, int positiveOffset, ReadOnlySpan<ulong> positive,
        int negativeOffset, ReadOnlySpan<ulong> negative, double q, double? min, double? max)
    {
        if (q is < 0 or > 1 || scale is < -10 or > 20) return null;
        ulong total = zeroCount;
        foreach (var c in positive) total += c;
        foreach (var c in negative) total += c;
        if (total == 0) return null;
        var rank = q * total;
        double before = 0;
        var step = Math.Pow(2, -scale); // log2 of the base
        // Ascending order: negative buckets from the largest index (most negative values) down, zero, positive up.
        for (var j = negative.Length - 1; j >= 0; j--)
        {
            if (negative[j] == 0) continue;
            var k = negativeOffset + j;
            if (Hit(negative[j], -Math.Pow(2, (k + 1) * step), -Math.Pow(2, k * step), out var v)) return v;
        }
        if (zeroCount > 0 && Hit(zeroCount, -zeroThreshold, zeroThreshold, out var z)) return z;
        for (var j = 0; j < positive.Length; j++)
        {
            if (positive[j] == 0) continue;
            var k = positiveOffset + j;
            if (Hit(positive[j], Math.Pow(2, k * step), Math.Pow(2, (k + 1) * step), out var v)) return v;
        }
        return null;

        bool Hit(ulong count, double lower, double upper, out double? value)
        {
            value = null;
            if (before + count < rank) { before += count; return false; }
            if (min is { } mn && mn > lower) lower = mn;
            if (max is { } mx && mx < upper) upper = mx;
            if (upper < lower) upper = lower;
            if (!double.IsFinite(lower) || !double.IsFinite(upper)) return true;
            value = lower + (upper - lower) * Math.Clamp((rank - before) / count, 0, 1);
            return true;
        }
    }

    /// <summary>Metric-name suffix of a quantile: 0.5 → p50, 0.95 → p95, 0.999 → p999.</summary>
    public static string Suffix(double q)
    {
        var text = (q * 100).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture).Replace(".", "");
        return "p" + text;
    }
}
