namespace AiOps.UnitTests;

/// <summary>Deterministic synthetic series for tests.</summary>
internal static class Synthetic
{
    public static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Hourly series: level + daily sine of amplitude <paramref name="amp"/> + Gaussian noise.</summary>
    public static double[] Seasonal(int n, int seed, double level = 100, double amp = 20, double noise = 2, int period = 24)
    {
        var rng = new Random(seed);
        var y = new double[n];
        for (int t = 0; t < n; t++) y[t] = level + amp * Math.Sin(2 * Math.PI * t / period) + noise * Gaussian(rng);
        return y;
    }

    public static double[] Score(AnomalyDetector d, double[] y, TimeSpan? step = null)
    {
        var s = new double[y.Length];
        var dt = step ?? TimeSpan.FromHours(1);
        for (int t = 0; t < y.Length; t++) s[t] = d.Score(Start + dt * t, y[t]);
        return s;
    }
}
