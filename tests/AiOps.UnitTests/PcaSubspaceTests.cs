using AiOps.Intelligence.Anomaly;

namespace AiOps.UnitTests;

/// <summary>
/// The shape model's subspace with its rank chosen by the broken-stick rule (<c>PcaRank=0</c>, measured and not the
/// default; docs/intelligence.md, "The hand-set constants varied"): noise keeps one component, a sine with two whole
/// periods in the window (two directions: its phase) keeps two, and a weaker second sine below the rule's line is left out.
/// </summary>
public sealed class PcaSubspaceTests
{
    private static List<float[]> Windows(Func<int, double> series, int count = 600, int length = 12, double noise = 0.05, int seed = 3)
    {
        var rng = new Random(seed);
        var windows = new List<float[]>(count);
        for (int t = 0; t < count; t++)
        {
            var w = new float[length];
            double mean = 0;
            for (int j = 0; j < length; j++) { w[j] = (float)(series(t + j) + noise * (rng.NextDouble() * 2 - 1)); mean += w[j]; }
            mean /= length;
            for (int j = 0; j < length; j++) w[j] -= (float)mean; // mean-removed, as the shape model's windows
            windows.Add(w);
        }
        return windows;
    }

    [Fact]
    public void TheBrokenStickKeepsTheComponentsThatHoldStructure()
    {
        Assert.Equal(1, PcaSubspace.Fit(Windows(_ => 0, noise: 1), 0).Rank);
        Assert.Equal(2, PcaSubspace.Fit(Windows(t => Math.Sin(2 * Math.PI * t / 6)), 0).Rank);
        // shares 0.4, 0.4, 0.1, 0.1: the third (0.1) is below the stick's third share for 11 directions (0.138)
        Assert.Equal(2, PcaSubspace.Fit(Windows(t => 2 * Math.Sin(2 * Math.PI * t / 6) + Math.Sin(2 * Math.PI * t / 4)), 0).Rank);
        // the same at equal strength: four shares of 0.25 each, above the stick from the second on but not the first
        // (0.2745), so the rule keeps one: it reads equal components as no structure, a known weakness of it
        Assert.Equal(1, PcaSubspace.Fit(Windows(t => Math.Sin(2 * Math.PI * t / 6) + Math.Sin(2 * Math.PI * t / 4)), 0).Rank);
        Assert.Equal(3, PcaSubspace.Fit(Windows(t => Math.Sin(2 * Math.PI * t / 6)), 3).Rank); // a rank given is kept
    }
}
