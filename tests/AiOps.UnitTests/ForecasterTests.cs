namespace AiOps.UnitTests;

public class ForecasterTests
{
    [Fact]
    public void IntervalsCoverAtTheirNominalRateOnGeneratedSeries()
    {
        int n80 = 0, n95 = 0, total = 0;
        for (int seed = 0; seed < 16; seed++)
        {
            var rng = new Random(100 + seed);
            double slope = (rng.NextDouble() - 0.5) * 0.05;
            var y = new double[700 + 48];
            for (int t = 0; t < y.Length; t++)
                y[t] = 200 + slope * t + 40 * Math.Sin(2 * Math.PI * t / 24) + 10 * Math.Sin(2 * Math.PI * t / 168) + 5 * Synthetic.Gaussian(rng);
            var train = y.Take(700).ToArray();
            var f = Forecaster.Forecast(train, Synthetic.Start, TimeSpan.FromHours(1), 48);
            for (int h = 0; h < 48; h++)
            {
                var p = f.Points[h];
                double a = y[700 + h];
                total++;
                if (a >= p.Lo80 && a <= p.Hi80) n80++;
                if (a >= p.Lo95 && a <= p.Hi95) n95++;
            }
        }
        double c80 = (double)n80 / total, c95 = (double)n95 / total;
        Assert.InRange(c80, 0.70, 0.93);
        Assert.InRange(c95, 0.88, 1.0);
    }

    [Fact]
    public void TrendIsExtrapolated()
    {
        var rng = new Random(3);
        var y = Enumerable.Range(0, 1000).Select(t => 100 + 0.5 * t + 10 * Math.Sin(2 * Math.PI * t / 24) + Synthetic.Gaussian(rng)).ToArray();
        var f = Forecaster.Forecast(y.Take(900).ToArray(), Synthetic.Start, TimeSpan.FromHours(1), 100);
        // trees cannot extrapolate levels: without detrending the forecast would stay near the last level (~550)
        double expected = 100 + 0.5 * 999 + 10 * Math.Sin(2 * Math.PI * 999 / 24);
        Assert.InRange(f.Points[99].Mean, expected - 15, expected + 15);
    }

    [Fact]
    public void LongHorizonWithGapsGivesOrderedFiniteBounds()
    {
        var y = Synthetic.Seasonal(2000, seed: 9).Select(v => Math.Max(0, v)).ToArray();
        for (int t = 300; t < 340; t++) y[t] = double.NaN;
        y[1999] = double.NaN;
        var f = Forecaster.Forecast(y, Synthetic.Start, TimeSpan.FromHours(1), 744);
        Assert.Equal(744, f.Points.Count);
        Assert.Equal(24, f.SeasonalPeriod);
        Assert.Equal(Synthetic.Start + TimeSpan.FromHours(2000), f.Points[0].TimestampUtc);
        foreach (var p in f.Points)
        {
            Assert.True(double.IsFinite(p.Mean) && double.IsFinite(p.Hi95));
            Assert.True(p.Lo95 <= p.Lo80 && p.Lo80 <= p.Mean && p.Mean <= p.Hi80 && p.Hi80 <= p.Hi95, p.ToString());
            Assert.True(p.Lo95 >= 0);
        }
        Assert.True(f.Points[743].Hi95 - f.Points[743].Lo95 >= f.Points[0].Hi95 - f.Points[0].Lo95);
    }

    [Fact]
    public void ShortHistoryFallsBackToSeasonalNaive()
    {
        var y = Synthetic.Seasonal(60, seed: 10);
        var f = Forecaster.Forecast(y, Synthetic.Start, TimeSpan.FromHours(1), 24, new ForecastOptions { SeasonalPeriod = 24 });
        Assert.StartsWith("seasonal-naive", f.Method);
        Assert.Equal(y[36], f.Points[0].Mean, 6);
    }

    [Fact]
    public void BudgetBreachProbabilityAndDate()
    {
        var start = new DateTime(2026, 3, 20, 0, 0, 0, DateTimeKind.Utc);
        var pts = Enumerable.Range(1, 240).Select(h => new ForecastPoint(start.AddHours(h), 10, 8, 12, 6, 14)).ToList();
        var f = new Forecast(pts, "test", 24, 0, 0);
        // 1000 spent, +2400 expected -> 3400 at month end
        var tight = BudgetOutlook.Evaluate(1000, f, 3000);
        Assert.Equal(3400, tight.ForecastMonthEnd, 6);
        // sd of the sum with rho=0.5: sqrt(0.5*240*s^2 + 0.5*(240*s)^2), s = 4/1.96 -> ~347; P(N > (3000-3400)/347) ~ 0.875
        Assert.InRange(tight.BreachProbability, 0.85, 0.90);
        Assert.Equal(start.AddHours(201), tight.ExpectedBreachUtc); // 1000 + 10*201 = 3010 > 3000
        Assert.True(tight.Lo95 < tight.Lo80 && tight.Lo80 < 3400 && 3400 < tight.Hi80 && tight.Hi80 < tight.Hi95);

        var loose = BudgetOutlook.Evaluate(1000, f, 5000);
        Assert.True(loose.BreachProbability < 0.01, loose.ToString());
        Assert.Null(loose.ExpectedBreachUtc);

        var over = BudgetOutlook.Evaluate(6000, f, 5000);
        Assert.Equal(1.0, over.BreachProbability);

        var even = BudgetOutlook.Evaluate(1000, f, 3400);
        Assert.InRange(even.BreachProbability, 0.45, 0.55);
    }

    [Fact]
    public void DegenerateHistoriesDoNotThrow()
    {
        var zeros = Forecaster.Forecast(new double[1500], Synthetic.Start, TimeSpan.FromHours(1), 744);
        Assert.All(zeros.Points, p => Assert.Equal(0.0, p.Hi95));
        var nan = Forecaster.Forecast(Enumerable.Repeat(double.NaN, 50).ToArray(), Synthetic.Start, TimeSpan.FromHours(1), 5);
        Assert.Equal(5, nan.Points.Count);
        var tiny = Forecaster.Forecast([1.0, 2.0, 3.0], Synthetic.Start, TimeSpan.FromHours(1), 4);
        Assert.Equal(2.0, tiny.Points[0].Mean, 6); // mean of the (short) history, no season
    }

    [Fact]
    public void PeriodDetectionPrefersTheFundamentalOverItsMultiples()
    {
        var rng = new Random(4);
        var y = Enumerable.Range(0, 800).Select(t => -0.5 * t + 5 * Math.Sin(2 * Math.PI * t / 24) + rng.NextDouble()).ToArray();
        var f = Forecaster.Forecast(y, Synthetic.Start, TimeSpan.FromMinutes(5), 100); // 5-minute step: no calendar candidate
        Assert.Equal(24, f.SeasonalPeriod);
        Assert.InRange(f.Points[99].Mean, -0.5 * 899 - 8, -0.5 * 899 + 8);
    }
}
