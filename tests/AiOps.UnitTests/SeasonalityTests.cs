using AiOps.Intelligence.Internal;

namespace AiOps.UnitTests;

public class SeasonalityTests
{
    private static double[] Persistent(int seed, int n, double phi)
    {
        var rng = new Random(seed);
        var x = new double[n];
        for (int i = 1; i < n; i++) x[i] = phi * x[i - 1] + Gaussian(rng);
        return x;
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Fact]
    public void ASlowlyVaryingSeriesIsNotSeasonalAlthoughItCorrelatesWithItselfADayLater()
    {
        // hourly AR(1) with phi 0.99: the autocorrelation at 24 steps is about 0.79, far above the 0.3 bar, but it is
        // persistence (higher still at 12 steps), not a daily cycle
        for (int seed = 1; seed <= 5; seed++)
        {
            var x = Persistent(seed, 2048, 0.99);
            Assert.Equal(0, Seasonality.Detect(x, [24, 168], 4, 0.3, requireCycle: true));
        }
    }

    [Fact]
    public void ADailyCycleOnTopOfPersistentNoiseIsStillFound()
    {
        for (int seed = 1; seed <= 5; seed++)
        {
            var x = Persistent(seed, 2048, 0.9);
            for (int i = 0; i < x.Length; i++) x[i] += 4 * Math.Sin(2 * Math.PI * i / 24);
            Assert.Equal(24, Seasonality.Detect(x, [24, 168], 4, 0.3, requireCycle: true));
        }
    }

    [Fact]
    public void TheLanedDotProductIsTheSumOfTheProductsUpToRounding()
    {
        // Lengths below, at and around the lanes (the remainder loop), and a training's history.
        var rng = new Random(7);
        foreach (var n in new[] { 0, 1, 3, 7, 8, 9, 15, 16, 17, 1365, 2048 })
        {
            var a = Enumerable.Range(0, n).Select(_ => Gaussian(rng) * 1e3).ToArray();
            var b = Enumerable.Range(0, n).Select(_ => Gaussian(rng) + 5).ToArray();
            double plain = 0, size = 0;
            for (int i = 0; i < n; i++) { plain += a[i] * b[i]; size += Math.Abs(a[i] * b[i]); }
            Assert.True(Math.Abs(Seasonality.Dot(a, b) - plain) <= 1e-12 * Math.Max(size, 1), $"n={n}: {Seasonality.Dot(a, b)} vs {plain}");
        }
    }
}
