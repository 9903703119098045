using System.Diagnostics;
using AiOps.Intelligence.Internal;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace AiOps.Intelligence;

/// <summary>
/// Forecasts a regular series (hourly/daily spend and other metrics) with an ML.NET gradient-boosted tree
/// regression on level-relative lags and calendar terms, applied recursively to any horizon.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Trend: the target is the next value minus the current local level (mean of the last season), scaled;
/// trees never have to extrapolate the level, the recursion carries it.</item>
/// <item>Seasonality: detected (1 day / 1 week for the step, else ACF); lags at 1..period and 2·period, phase terms.</item>
/// <item>Gaps (NaN): filled from the previous season, else linearly. Short histories fall back to seasonal naive / drift.</item>
/// <item>Model choice and intervals: a rolling-origin backtest of a model trained on the earlier part; the method with
/// the lower MAE is used (tree model, seasonal naive, or their average); 80%/95% intervals are the empirical quantiles
/// of the backtest's absolute errors by step ahead, grown with sqrt(h) beyond the backtest horizon.</item>
/// </list>
/// </remarks>
public static class Forecaster
{

    public static Forecast Forecast(IReadOnlyList<double> values, DateTime firstTimestampUtc, TimeSpan step, int horizon, ForecastOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (horizon < 1) throw new ArgumentOutOfRangeException(nameof(horizon));
        if (step <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(step));
        var o = options ?? new ForecastOptions();
        var sw = Stopwatch.StartNew();

        // ---- history: drop leading NaNs, cap length, fill gaps
        int start = 0;
        while (start < values.Count && double.IsNaN(values[start])) start++;
        int keep = Math.Min(values.Count - start, o.MaxHistory);
        int offset = values.Count - keep;
        var y = new double[keep];
        for (int i = 0; i < keep; i++) y[i] = values[offset + i];
        DateTime lastTs = firstTimestampUtc + step * (values.Count - 1);
        var stamps = Enumerable.Range(1, horizon).Select(h => lastTs + step * h).ToArray();
        if (keep == 0)
            return new Forecast(stamps.Select(t => new ForecastPoint(t, 0, 0, 0, 0, 0)).ToArray(), "empty", 0, double.NaN, sw.Elapsed.TotalMilliseconds);

        int period = o.SeasonalPeriod ?? DetectPeriod(y, step);
        FillGaps(y, period);
        bool nonNeg = o.NonNegative && y.All(v => v >= 0);

        // constant history: nothing to learn
        if (y.Max() - y.Min() <= 1e-12 * Math.Max(1, Math.Abs(y[0])))
            return Finish(Enumerable.Repeat(y[^1], horizon).ToArray(), [[0.0]], stamps, nonNeg, "constant", period, 0, sw);

        // ---- short histories: seasonal naive (or naive) with drift-free intervals from in-sample errors
        int minForModel = Math.Max(3 * Math.Max(period, 1), 96) + 2 * Math.Max(period, 1);
        var spec = new FeatureSpec(period);
        if (keep < minForModel || keep < spec.MaxLag + 48)
        {
            var fb = FallbackForecast(y, period, horizon);
            return Finish(fb.Mean, fb.Errors, stamps, nonNeg, fb.Method, period, double.NaN, sw);
        }

        try
        {
            return ModelForecast(y, keep, spec, period, horizon, stamps, nonNeg, o, sw);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // degenerate data the trainer rejects: fall back to the baseline
            var fb = FallbackForecast(y, period, horizon);
            return Finish(fb.Mean, fb.Errors, stamps, nonNeg, fb.Method, period, double.NaN, sw);
        }
    }

    private static Forecast ModelForecast(double[] y, int keep, FeatureSpec spec, int period, int horizon, DateTime[] stamps, bool nonNeg, ForecastOptions o, Stopwatch sw)
    {
        // ---- backtest: model trained on the earlier part, forecasts from rolling origins in the held-out tail
        int hb = Math.Min(o.BacktestHorizon, Math.Max(1, keep / 6));
        int nOrig = Math.Max(1, o.BacktestOrigins);
        int originStride = Math.Max(1, Math.Max(period, 1) / 2);
        int holdout = hb + (nOrig - 1) * originStride;
        if (keep - holdout < spec.MaxLag + 48) { nOrig = 1; holdout = hb; }
        double[][] errModel = new double[hb][], errNaive = new double[hb][], errBlend = new double[hb][];
        for (int h = 0; h < hb; h++) { errModel[h] = new double[nOrig]; errNaive[h] = new double[nOrig]; errBlend[h] = new double[nOrig]; }
        using var btModel = TreeModel.Train(y.AsSpan(0, keep - holdout), spec, o);
        for (int k = 0; k < nOrig; k++)
        {
            int origin = keep - holdout + k * originStride;
            var hist = y.AsSpan(0, origin);
            var fm = btModel.Predict(hist, hb);
            var fn = SeasonalNaive(hist, period, hb);
            for (int h = 0; h < hb; h++)
            {
                double actual = y[origin + h];
                errModel[h][k] = actual - fm[h];
                errNaive[h][k] = actual - fn[h];
                errBlend[h][k] = actual - 0.5 * (fm[h] + fn[h]);
            }
        }
        double maeModel = Mae(errModel), maeNaive = Mae(errNaive), maeBlend = Mae(errBlend);

        // ---- final model on all data
        using var refit = o.RefitAfterBacktest ? TreeModel.Train(y, spec, o) : null;
        var mean = (refit ?? btModel).Predict(y, horizon);
        string method = $"{(o.Trainer == ForecastTrainer.LightGbm ? "lightgbm" : "fasttree")}-level-seasonal-{period}";
        double[][] errs = errModel;
        double mae = maeModel;
        if (o.SelectByBacktest)
        {
            var naive = SeasonalNaive(y, period, horizon);
            if (maeBlend < mae && maeBlend <= maeNaive)
            {
                for (int h = 0; h < horizon; h++) mean[h] = 0.5 * (mean[h] + naive[h]);
                method = "blend-" + method + "+seasonal-naive";
                errs = errBlend; mae = maeBlend;
            }
            else if (maeNaive < mae)
            {
                mean = naive;
                method = period > 1 ? $"seasonal-naive-{period}" : "moving-average-24";
                errs = errNaive; mae = maeNaive;
            }
        }
        return Finish(mean, errs, stamps, nonNeg, method, period, mae, sw);
    }

    private static double Mae(double[][] e)
    {
        double s = 0; int n = 0;
        foreach (var row in e) foreach (var v in row) { s += Math.Abs(v); n++; }
        return n == 0 ? double.NaN : s / n;
    }

    private static Forecast Finish(double[] mean, double[][] errors, DateTime[] stamps, bool nonNeg, string method, int period, double mae, Stopwatch sw)
    {
        int horizon = mean.Length;
        var q = IntervalWidths(errors, horizon);
        var pts = new ForecastPoint[horizon];
        for (int h = 0; h < horizon; h++)
        {
            double m = mean[h];
            double lo80 = m - q.W80[h], hi80 = m + q.W80[h], lo95 = m - q.W95[h], hi95 = m + q.W95[h];
            if (nonNeg)
            {
                m = Math.Max(0, m); lo80 = Math.Max(0, lo80); lo95 = Math.Max(0, lo95); hi80 = Math.Max(0, hi80); hi95 = Math.Max(0, hi95);
            }
            pts[h] = new ForecastPoint(stamps[h], m, lo80, hi80, lo95, hi95);
        }
        return new Forecast(pts, method, period, mae, sw.Elapsed.TotalMilliseconds);
    }

    /// <summary>Half-widths of the 80%/95% intervals by step: pooled empirical quantiles of |error|, sqrt growth past the backtest.</summary>
    private static (double[] W80, double[] W95) IntervalWidths(double[][] errors, int horizon)
    {
        var w80 = new double[horizon];
        var w95 = new double[horizon];
        int hb = errors.Length;
        if (hb == 0) return (w80, w95);
        var q80 = new double[hb];
        var q95 = new double[hb];
        for (int h = 0; h < hb; h++)
        {
            // pool neighbouring steps so that each quantile rests on enough errors
            int lo = Math.Max(0, (int)(h * 0.7) - 1), hi = Math.Min(hb - 1, (int)(h * 1.3) + 1);
            var pool = new List<double>();
            for (int j = lo; j <= hi; j++) foreach (var e in errors[j]) pool.Add(Math.Abs(e));
            var a = pool.ToArray();
            Array.Sort(a);
            // small-sample inflation: the empirical 95% quantile of few errors is biased low
            double inflate = 1.0 + 1.5 / Math.Sqrt(Math.Max(1, a.Length));
            q80[h] = Robust.QuantileSorted(a, 0.80) * (1.0 + 0.5 / Math.Sqrt(Math.Max(1, a.Length)));
            q95[h] = Robust.QuantileSorted(a, 0.95) * inflate;
        }
        // monotone non-decreasing in h
        for (int h = 1; h < hb; h++) { q80[h] = Math.Max(q80[h], q80[h - 1]); q95[h] = Math.Max(q95[h], q95[h - 1]); }
        for (int h = 0; h < horizon; h++)
        {
            if (h < hb) { w80[h] = q80[h]; w95[h] = q95[h]; }
            else
            {
                double g = Math.Sqrt((h + 1.0) / hb);
                w80[h] = q80[hb - 1] * g; w95[h] = q95[hb - 1] * g;
            }
        }
        return (w80, w95);
    }

    internal static int DetectPeriod(double[] y, TimeSpan step)
    {
        var cands = new List<int>();
        foreach (var span in new[] { TimeSpan.FromDays(1), TimeSpan.FromDays(7) })
        {
            if (span.Ticks % step.Ticks != 0) continue;
            long p = span.Ticks / step.Ticks;
            if (p >= 2 && p * 3 <= y.Length) cands.Add((int)p);
        }
        int period = cands.Count > 0 ? Seasonality.Detect(y, cands, 2, 0.2) : 0;
        if (period == 0) period = Seasonality.Detect(y, null, 2, 0.4, Math.Min(y.Length / 3, 400));
        // daily seasonality is modelled directly; a weekly cycle on top is covered by the weekly lag features
        return period;
    }

    internal static void FillGaps(double[] y, int period)
    {
        for (int i = 0; i < y.Length; i++)
        {
            if (!double.IsNaN(y[i])) continue;
            if (period > 0 && i >= period && !double.IsNaN(y[i - period])) { y[i] = y[i - period]; continue; }
            int j = i + 1;
            while (j < y.Length && double.IsNaN(y[j])) j++;
            double left = i > 0 ? y[i - 1] : (j < y.Length ? y[j] : 0);
            double right = j < y.Length ? y[j] : left;
            for (int k = i; k < j; k++) y[k] = left + (right - left) * (k - i + 1) / (j - i + 1);
            i = j - 1;
        }
    }

    internal static double[] SeasonalNaive(ReadOnlySpan<double> hist, int period, int horizon)
    {
        var f = new double[horizon];
        if (period <= 1)
        {
            // no season: the mean of the last day-ish (24 steps) is a steadier baseline than the last value
            int k = Math.Min(24, hist.Length);
            double m = 0;
            for (int i = hist.Length - k; i < hist.Length; i++) m += hist[i];
            Array.Fill(f, k > 0 ? m / k : 0);
            return f;
        }
        int p = Math.Min(period, hist.Length);
        for (int h = 0; h < horizon; h++) f[h] = hist[hist.Length - p + (h % p)];
        return f;
    }

    private static (double[] Mean, double[][] Errors, string Method) FallbackForecast(double[] y, int period, int horizon)
    {
        int p = period > 0 && y.Length >= 2 * period ? period : 1;
        var mean = SeasonalNaive(y, p, horizon);
        // in-sample one-season-ahead errors as a crude interval basis, grown with sqrt(h)
        var errs = new List<double>();
        for (int i = p; i < y.Length; i++) errs.Add(y[i] - y[i - p]);
        if (errs.Count == 0) errs.Add(0);
        var e = new double[1][];
        e[0] = errs.ToArray();
        return (mean, e, p > 1 ? $"seasonal-naive-{p}" : "moving-average-24");
    }

    // ------------------------------------------------------------------------------------------------
    /// <summary>Feature layout: level-relative lags 1..P, 2P (and 1 week when hourly), season phase, level change.</summary>
    internal sealed class FeatureSpec
    {
        public int Period { get; }
        public int LevelWindow { get; }
        public int[] Lags { get; }
        public int MaxLag { get; }
        public int Dimension => Lags.Length + 4;

        public FeatureSpec(int period)
        {
            Period = period;
            LevelWindow = period > 1 ? period : 12;
            var lags = new SortedSet<int>();
            int direct = period > 1 ? Math.Min(period, 48) : 24;
            for (int k = 1; k <= direct; k++) lags.Add(k);
            if (period > 1)
            {
                lags.Add(period); lags.Add(period + 1); lags.Add(2 * period); lags.Add(3 * period);
                if (period == 24) { lags.Add(168); lags.Add(167); lags.Add(169); }
            }
            Lags = lags.ToArray();
            MaxLag = Math.Max(Lags[^1], 2 * LevelWindow);
        }

        /// <summary>Features for predicting position t of <paramref name="y"/> from y[..t].</summary>
        public double Fill(ReadOnlySpan<double> y, int t, Span<float> f, double scale, out double level)
        {
            double s = 0;
            for (int k = 1; k <= LevelWindow; k++) s += y[t - k];
            level = s / LevelWindow;
            double prevLevel = 0;
            for (int k = 1; k <= LevelWindow; k++) prevLevel += y[t - LevelWindow - k];
            prevLevel /= LevelWindow;
            double inv = 1.0 / scale;
            int i = 0;
            foreach (var lag in Lags) f[i++] = (float)((y[t - lag] - level) * inv);
            f[i++] = Period > 1 ? t % Period : 0;
            f[i++] = Period == 24 ? (t / 24) % 7 : 0;
            f[i++] = (float)((level - prevLevel) * inv);
            f[i++] = (float)(level * inv);
            return level;
        }
    }

    private sealed class Row
    {
        public float Label { get; set; }
        public float[] Features { get; set; } = [];
    }

    private sealed class Out
    {
        public float Score { get; set; }
    }

    internal sealed class TreeModel : IDisposable
    {
        public void Dispose() => _engine.Dispose();

        private readonly FeatureSpec _spec;
        private readonly double _scale;
        private readonly PredictionEngine<Row, Out> _engine;

        private TreeModel(FeatureSpec spec, double scale, PredictionEngine<Row, Out> engine)
        {
            _spec = spec; _scale = scale; _engine = engine;
        }

        public static TreeModel Train(ReadOnlySpan<double> y, FeatureSpec spec, ForecastOptions o)
        {
            // scale: mean absolute one-step change (robust to level), floored
            double sc = 0;
            for (int i = 1; i < y.Length; i++) sc += Math.Abs(y[i] - y[i - 1]);
            sc /= Math.Max(1, y.Length - 1);
            double meanAbs = 0;
            foreach (var v in y) meanAbs += Math.Abs(v);
            meanAbs /= Math.Max(1, y.Length);
            if (sc <= 1e-12) sc = Math.Max(meanAbs * 1e-3, 1e-9);

            int dim = spec.Dimension;
            var rows = new List<Row>(y.Length);
            var f = new float[dim];
            for (int t = spec.MaxLag; t < y.Length; t++)
            {
                spec.Fill(y, t, f, sc, out double level);
                rows.Add(new Row { Label = (float)((y[t] - level) / sc), Features = (float[])f.Clone() });
            }
            var schema = SchemaDefinition.Create(typeof(Row));
            schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dim);
            // a fresh MLContext per training: a long-lived shared context retains memory per training (measured)
            var ml = new MLContext(seed: o.Seed);
            var data = ml.Data.LoadFromEnumerable(rows, schema);
            ITransformer model = o.Trainer switch
            {
                ForecastTrainer.FastTree => ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
                {
                    NumberOfTrees = o.NumberOfTrees, NumberOfLeaves = o.NumberOfLeaves, LearningRate = o.LearningRate,
                    MinimumExampleCountPerLeaf = o.MinExamplesPerLeaf, NumberOfThreads = 1, Seed = o.Seed,
                    LabelColumnName = nameof(Row.Label), FeatureColumnName = nameof(Row.Features),
                }).Fit(data),
                _ => ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
                {
                    NumberOfIterations = o.NumberOfTrees, NumberOfLeaves = o.NumberOfLeaves, LearningRate = o.LearningRate,
                    MinimumExampleCountPerLeaf = o.MinExamplesPerLeaf, NumberOfThreads = 1, Seed = o.Seed, Verbose = false, Silent = true,
                    MaximumBinCountPerFeature = o.MaxBinsPerFeature,
                    LabelColumnName = nameof(Row.Label), FeatureColumnName = nameof(Row.Features),
                }).Fit(data),
            };
            var engine = ml.Model.CreatePredictionEngine<Row, Out>(model, inputSchemaDefinition: schema);
            return new TreeModel(spec, sc, engine);
        }

        /// <summary>Recursive multi-step forecast continuing <paramref name="hist"/>.</summary>
        public double[] Predict(ReadOnlySpan<double> hist, int horizon)
        {
            var buf = new double[hist.Length + horizon];
            hist.CopyTo(buf);
            var row = new Row { Features = new float[_spec.Dimension] };
            var output = new Out();
            var res = new double[horizon];
            for (int h = 0; h < horizon; h++)
            {
                int t = hist.Length + h;
                _spec.Fill(buf, t, row.Features, _scale, out double level);
                _engine.Predict(row, ref output);
                double v = level + output.Score * _scale;
                buf[t] = v;
                res[h] = v;
            }
            return res;
        }
    }
}
