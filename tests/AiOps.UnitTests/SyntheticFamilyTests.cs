namespace AiOps.UnitTests;

/// <summary>
/// Series families the NAB corpus lacks, each with a known answer: what must alarm (score &gt;= 0.8) and what must not.
/// Every family is checked on several seeds; "probation" is the first 15% of the series, as in NAB.
/// </summary>
public class SyntheticFamilyTests
{
    private const double Alarm = 0.8;
    private static readonly int[] Seeds = [31, 32, 33];

    private static double MaxScore(double[] s, int from, int to) => s.Skip(from).Take(to - from).Max();

    private static int Alarms(double[] s, int from, int to) => s.Skip(from).Take(to - from).Count(x => x >= Alarm);

    [Fact]
    public void SlowlyDriftingNoiseLevelRaisesAtMostAnIsolatedAlarm()
    {
        // seasonal hourly series whose noise grows steadily from 1 to 4 over 4,000 points: a gradual change of the noise
        // is not an incident, the scales must follow it. The exact answer is no alarm; the tolerance of one alarm point
        // per series is the current detector's false-alarm rate on the same series with constant noise (1 point in 3
        // of 10 seeds, measured), so the test fails as soon as the drift itself causes alarms.
        for (int seed = 31; seed <= 40; seed++)
        {
            var y = Synthetic.DriftingNoise(4000, seed, from: 1, to: 4);
            var s = Synthetic.Score(new AnomalyDetector(), y);
            int alarms = Alarms(s, 600, y.Length);
            Assert.True(alarms <= 1, $"seed {seed}: {alarms} alarm points on drifting noise (max {MaxScore(s, 600, y.Length):F3})");
        }
    }

    [Fact]
    public void StepChangeInVarianceStandsOutThenIsRelearned()
    {
        // same level and season, noise standard deviation 1 -> 6 at t = 2000, on 20 seeds.
        // Known answer: in its first 50 points the step scores above everything before it, and 1,200 points later it
        // is normal again. At the product's alarm level (0.8) it alarms on 14 of the 20 seeds (measured; 19 of 20
        // before the residual and shape components were counted as one view of the point, the change that halved the
        // detector's false alarms on normal series; docs/intelligence.md). The test fails below 12 of 20.
        int alarmed = 0;
        for (int seed = 31; seed <= 50; seed++)
        {
            var y = Synthetic.VarianceStep(4000, seed, at: 2000, before: 1, after: 6);
            var s = Synthetic.Score(new AnomalyDetector(), y);
            double before = MaxScore(s, 600, 2000);
            double atStep = MaxScore(s, 2000, 2050);
            Assert.True(atStep > before, $"seed {seed}: the step ({atStep:F3} in its first 50 points) does not stand out from before it ({before:F3})");
            if (atStep >= Alarm) alarmed++;
            double late = MaxScore(s, 3200, y.Length);
            Assert.True(late < Alarm, $"seed {seed}: still alarming {late:F3} 1,200 points after the step");
        }
        Assert.True(alarmed >= 12, $"the variance step alarmed on {alarmed} of 20 seeds");
    }

    [Fact]
    public void MissingValuesAndTimestampGapsRaiseNoAlarmAndASpikeAfterAGapIsFound()
    {
        foreach (var seed in Seeds)
        {
            var rng = new Random(seed);
            var y = Synthetic.Seasonal(3000, seed);
            var d = new AnomalyDetector();
            var scores = new List<(int T, double S)>();
            int skipped = 0;
            for (int t = 0; t < y.Length; t++)
            {
                // 5% isolated NaN values, and every 250 points a 6-hour hole in the timestamps (points never sent)
                if (t % 250 == 125) { skipped += 6; }
                double v = rng.NextDouble() < 0.05 ? double.NaN : y[t];
                if (t == 2507) v = y[t] + 30; // a 15-sigma spike 2 points after a hole
                var ts = Synthetic.Start + TimeSpan.FromHours(t + skipped);
                double sc = d.Score(ts, v);
                Assert.InRange(sc, 0.0, 1.0);
                if (double.IsNaN(v)) Assert.Equal(0.0, sc);
                scores.Add((t, sc));
            }
            double other = scores.Where(p => p.T >= 450 && p.T != 2507).Max(p => p.S);
            double spike = scores.Single(p => p.T == 2507).S;
            Assert.True(other < Alarm, $"seed {seed}: false alarm {other:F3} with missing data");
            Assert.True(spike >= Alarm, $"seed {seed}: spike after a gap scored {spike:F3}");
        }
    }

    [Fact]
    public void IrregularSamplingRaisesNoAlarmAndALevelShiftIsFound()
    {
        // an hourly seasonal series of which a random 30% of the hours are never sent (as traffic sensors and ad
        // exchanges report), and a sustained +25 level shift (12 noise sd, about one daily amplitude) at t = 3,000
        foreach (var seed in Seeds)
        {
            var rng = new Random(seed);
            var y = Synthetic.Seasonal(4000, seed);
            var d = new AnomalyDetector();
            var scores = new List<(int T, double S)>();
            for (int t = 0; t < y.Length; t++)
            {
                if (t > 0 && t != 3000 && rng.NextDouble() < 0.3) continue;
                double v = t >= 3000 ? y[t] + 25 : y[t];
                scores.Add((t, d.Score(Synthetic.Start + TimeSpan.FromHours(t), v)));
            }
            double before = scores.Where(p => p.T >= 600 && p.T < 3000).Max(p => p.S);
            double shift = scores.Where(p => p.T >= 3000 && p.T < 3024).Max(p => p.S);
            Assert.True(before < Alarm, $"seed {seed}: false alarm {before:F3} from irregular sampling");
            Assert.True(shift >= Alarm, $"seed {seed}: level shift missed ({shift:F3} in its first day)");
        }
    }

    [Fact]
    public void IntermittentZerosInASpendSeriesAreNormalButASurgeIsNot()
    {
        // hourly spend: ~25% of hours have no spend at all (0), the others a daily-shaped amount with noise
        for (int seed = 31; seed <= 40; seed++)
        {
            var y = Synthetic.IntermittentSpend(4000, seed, zeroShare: 0.25);
            var quiet = Synthetic.Score(new AnomalyDetector(), y);
            int alarms = Alarms(quiet, 600, y.Length);
            Assert.True(alarms <= 1, $"seed {seed}: ordinary zero hours raised {alarms} alarm points (max {MaxScore(quiet, 600, y.Length):F3})");

            // a surge: 8 times the usual spend in the busiest hour of the day
            var surge = (double[])y.Clone();
            surge[3486] = 8 * Synthetic.SpendLevel(3486);
            var ss = Synthetic.Score(new AnomalyDetector(), surge);
            Assert.True(ss[3486] >= Alarm, $"seed {seed}: spend surge scored {ss[3486]:F3}");
        }
    }
}
