using AiOps.Intelligence.Anomaly;

namespace AiOps.UnitTests;

/// <summary>The contextual member's own logic (facts, contexts, the share not predicted) and its state.</summary>
public class ContextModelTests
{
    // a repeating pattern of 7 values over the range 0..60: each value's successor depends on the value (order 1)
    private static readonly double[] Pattern = [0, 30, 10, 45, 20, 60, 5];

    private static double[] Repeat(int cycles)
    {
        var h = new double[cycles * Pattern.Length];
        for (int i = 0; i < h.Length; i++) h[i] = Pattern[i % Pattern.Length];
        return h;
    }

    private static ContextModel Learned(int cycles)
    {
        var m = new ContextModel(3000);
        m.Rebuild(0, 60, Repeat(cycles), seed: false);
        return m;
    }

    [Fact]
    public void RepeatingPatternIsPredicted()
    {
        var m = Learned(5); // the history ends with the last value of a cycle: the next one is Pattern[0]
        for (int i = 0; i < 3 * Pattern.Length; i++)
        {
            double x = Pattern[i % Pattern.Length];
            Assert.Equal(0.0, m.Raw(x));
            m.Learn(x);
        }
    }

    [Fact]
    public void NovelContinuationScoresHigh()
    {
        var m = Learned(5);
        // in range, but never seen after the current context (5 is followed by 0): every fact unpredicted
        Assert.Equal(1.0, m.Raw(45));
        // near the predicted value: most facts shared, a small share unpredicted
        double near = m.Raw(1.6); // 1.6 = one code step (range/40 = 1.5) above 0
        Assert.InRange(near, 0.05, 0.2);
        // beyond the history's range: positions never active
        Assert.Equal(1.0, m.Raw(200));
        // learned now: 45 -> 20 is known to the order-1 context, but the order-2 context (5, 45) has never been
        // followed by anything, so half of the facts count as unpredicted
        m.Learn(45);
        Assert.Equal(0.5, m.Raw(20), 9);
    }

    [Fact]
    public void OrderTwoContextSeesDirection()
    {
        // a triangle wave: 10 is followed by 20 on the way up and by 0 on the way down
        double[] tri = [0, 10, 20, 30, 20, 10];
        var h = new double[60];
        for (int i = 0; i < h.Length; i++) h[i] = tri[i % tri.Length];
        var m = new ContextModel(3000);
        m.Rebuild(0, 30, h, seed: false);
        // history ends ... 20, 10: going down, so 0 is predicted by both orders
        Assert.Equal(0.0, m.Raw(0));
        // 20 after (20, 10) was never seen: order 1 (after 10) predicts it, order 2 does not -> half the facts
        Assert.Equal(0.5, m.Raw(20), 6);
    }

    [Fact]
    public void KnownFactsOnlyLeavesNeverSeenValuesToTheOtherViews()
    {
        var m = new ContextModel(3000, orders: 2, knownFactsOnly: true);
        m.Rebuild(0, 60, Repeat(5), seed: false);
        Assert.Equal(0.0, m.Raw(0));     // the predicted continuation
        Assert.Equal(1.0, m.Raw(45));    // a known value in an unknown context: every fact unpredicted
        Assert.Equal(0.0, m.Raw(200));   // never seen at all (beyond the range): not this member's evidence
        // code 43 (positions 43..50): 43..45 (from 45) and 48..50 (from 60) were seen, 46..47 never: 6 of 8 facts count
        Assert.Equal(0.75, m.Raw(52.6), 9);
    }

    [Fact]
    public void OrderOneOnlyIgnoresDirection()
    {
        double[] tri = [0, 10, 20, 30, 20, 10];
        var h = new double[60];
        for (int i = 0; i < h.Length; i++) h[i] = tri[i % tri.Length];
        var m = new ContextModel(3000, orders: 1);
        m.Rebuild(0, 30, h, seed: false);
        Assert.Equal(0.0, m.Raw(20)); // 10 -> 20 was seen (on the way up)
        Assert.Equal(1.0, m.Raw(30)); // 10 -> 30 never
    }

    [Fact]
    public void CoarseFactsGiveFarJumpsTheHigherScore()
    {
        var m = new ContextModel(3000, orders: 1, coarseFacts: true);
        m.Rebuild(0, 60, Repeat(5), seed: false);
        Assert.Equal(0.0, m.Raw(0));             // predicted at both resolutions
        // 10 (fine code 14, coarse 25) after 5: fine facts all unpredicted (0 sets 8..15 -> 14, 15 shared: 6 of 8),
        // coarse facts shared with 0 (coarse 24: 24..31) -> 1 of 8
        Assert.Equal((0.75 + 0.125) / 2, m.Raw(10), 9);
        // a full range beyond everything that followed: unpredicted at both resolutions
        Assert.Equal(1.0, m.Raw(130));
        Assert.True(m.Raw(45) < m.Raw(130), "a far jump scores higher than a nearer novel one");
    }

    [Fact]
    public void NothingIsLearnedBeforeARangeIsKnown()
    {
        var m = new ContextModel(3000);
        Assert.False(m.Ready);
        m.Learn(5);
        m.Learn(6);
        m.Rebuild(0, 10, [], seed: false);
        Assert.True(m.Ready);
        Assert.Equal(1.0, m.Raw(5)); // no context yet
    }

    [Fact]
    public void SeedingScoresTheSecondHalfOfTheReplay()
    {
        var m = new ContextModel(3000);
        m.Rebuild(0, 60, Repeat(6), seed: true);
        // the second half of a repeating history is fully predicted: the seeded calibrator holds 21 zeros
        Assert.InRange(m.Calibrator.EffectiveCount, 20.5, 21.0); // 21 points, slightly forgotten
        Assert.True(m.Calibrator.Surprise(1.0) > 1, "a score never seen is surprising against a seeded calibrator");
    }

    [Theory]
    [InlineData(2, false, false)]
    [InlineData(1, true, true)]
    [InlineData(2, true, true)]
    public void StateRoundTripsThroughSerialization(int orders, bool knownOnly, bool coarse)
    {
        var m = new ContextModel(3000, orders, knownOnly, coarse);
        m.Rebuild(0, 60, Repeat(4), seed: false);
        m.Learn(45); m.Learn(3); // some novel transitions
        foreach (var x in new double[] { 0.5, 0.9, 0.0, 1.0 }) m.Calibrator.Add(x);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) m.Write(w);
        ms.Position = 0;
        var copy = new ContextModel(3000, orders, knownOnly, coarse);
        using (var r = new BinaryReader(ms, System.Text.Encoding.UTF8, leaveOpen: true)) copy.Read(r);
        Assert.Equal(ms.Length, ms.Position); // everything written was read
        Assert.True(copy.Ready);
        var rng = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            double x = i % 3 == 0 ? rng.NextDouble() * 80 - 10 : Pattern[i % Pattern.Length];
            Assert.Equal(m.Raw(x), copy.Raw(x));
            Assert.Equal(m.Calibrator.Surprise(m.Raw(x)), copy.Calibrator.Surprise(copy.Raw(x))); // the calibrator as held
            m.Learn(x); copy.Learn(x);
        }
    }

    [Fact]
    public void DetectorWithTheMemberRoundTripsAndStaysWithinBudget()
    {
        var o = new AnomalyDetectorOptions { Contextual = ContextualMode.PointView };
        var y = Synthetic.Seasonal(3600, seed: 11);
        var a = new AnomalyDetector(o);
        for (int t = 0; t < 3000; t++) a.Score(Synthetic.Start.AddHours(t), y[t]);
        var bytes = a.Serialize();
        var b = AnomalyDetector.Deserialize(bytes);
        Assert.Equal(ContextualMode.PointView, b.Options.Contextual);
        for (int t = 3000; t < y.Length; t++)
        {
            var ts = Synthetic.Start.AddHours(t);
            Assert.Equal(a.Score(ts, y[t]), b.Score(ts, y[t]));
            Assert.Equal(a.LastSurprises.Context, b.LastSurprises.Context);
        }
        Assert.True(a.LastSurprises.Context >= 0);
        Assert.True(a.EstimatedBytes <= 100_000, $"{a.EstimatedBytes} B");
        Assert.True(bytes.Length <= 100_000, $"{bytes.Length} B serialized");
    }
}
