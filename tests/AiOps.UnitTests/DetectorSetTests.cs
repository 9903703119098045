using AiOps.Grains.Detection;

namespace AiOps.UnitTests;

/// <summary>An entity's detectors start their refractory period at the alarm level the entity alarms at, also after a restore.</summary>
public class DetectorSetTests
{
    private static double[] Ramp(int seed) => Synthetic.RampedShift(4000, seed, at: 3000, ramp: 60, shift: 8);

    private static double MaxAfterShift(DetectorSet set, double[] y, int from = 0)
    {
        double max = 0;
        for (int t = from; t < y.Length; t++)
        {
            double s = set.Score("latency_ms", 1_767_225_600_000L + t * 300_000L, y[t]);
            if (t >= 3000 && t < 3400) max = Math.Max(max, s);
        }
        return max;
    }

    [Fact]
    public void TheSetsAlarmScoreReachesNewAndRestoredDetectors()
    {
        // seed 32: with the refractory period from 0.5 this gradual shift peaks at 0.62 (SyntheticFamilyTests), from 0.8 at 0.88
        var y = Ramp(32);
        Assert.True(MaxAfterShift(new DetectorSet(alarmScore: 0.8, inlineTraining: true), y) >= 0.8);
        Assert.True(MaxAfterShift(new DetectorSet(alarmScore: 0.5, inlineTraining: true), y) < 0.8);

        // restored half-way: the alarm score is the set's, not something stored with the model
        var first = new DetectorSet(alarmScore: 0.5, inlineTraining: true);
        for (int t = 0; t < 2000; t++) first.Score("latency_ms", 1_767_225_600_000L + t * 300_000L, y[t]);
        var state = new DetectorState();
        first.SaveTo(state);
        var restored = new DetectorSet(alarmScore: 0.8, inlineTraining: true);
        restored.Load(state);
        Assert.True(MaxAfterShift(restored, y, from: 2000) >= 0.8);
    }

    [Fact]
    public void TheSetsTimeZoneReachesNewRestoredAndHeldDetectors()
    {
        // Berlin's clock across the 2026 spring change (SyntheticFamilyTests): the scores of a detector told the zone,
        // whether the set had the zone when the detector was created, when it was loaded, or got it later.
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var change = new DateTime(2026, 3, 29, 1, 0, 0, DateTimeKind.Utc);
        var points = Synthetic.LocalDaytime(23 * 288, 31, change - TimeSpan.FromDays(21) - TimeSpan.FromHours(1), TimeSpan.FromMinutes(5), zone);
        long Ms(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
        var reference = new AnomalyDetector { AlarmScore = 0.8, LocalTime = zone };
        var expected = points.Select(p => reference.Score(p.Utc, p.Value)).ToArray();
        var utc = new AnomalyDetector { AlarmScore = 0.8 };
        Assert.NotEqual(expected, points.Select(p => utc.Score(p.Utc, p.Value)).ToArray()); // the zone changes these scores

        int half = points.Length - 2 * 288;
        double[] Run(Func<DetectorSet, DetectorSet> atHalf, DetectorSet start)
        {
            var set = start;
            var scores = new double[points.Length];
            for (int i = 0; i < points.Length; i++)
            {
                if (i == half) set = atHalf(set);
                scores[i] = set.Score("requests", Ms(points[i].Utc), points[i].Value);
            }
            return scores;
        }
        DetectorSet Reloaded(DetectorSet set, bool zoneBeforeLoad)
        {
            var state = new DetectorState();
            set.SaveTo(state);
            var restored = new DetectorSet(alarmScore: 0.8, inlineTraining: true);
            if (zoneBeforeLoad) restored.LocalTime = zone;
            restored.Load(state);
            if (!zoneBeforeLoad) restored.LocalTime = zone;
            return restored;
        }
        Assert.Equal(expected, Run(s => s, new DetectorSet(alarmScore: 0.8, inlineTraining: true) { LocalTime = zone }));
        Assert.Equal(expected, Run(s => Reloaded(s, zoneBeforeLoad: true), new DetectorSet(alarmScore: 0.8, inlineTraining: true) { LocalTime = zone }));
        Assert.Equal(expected, Run(s => Reloaded(s, zoneBeforeLoad: false), new DetectorSet(alarmScore: 0.8, inlineTraining: true)));
        Assert.Equal(expected, Run(s => { s.LocalTime = zone; return s; }, new DetectorSet(alarmScore: 0.8, inlineTraining: true)));
    }

    [Fact]
    public void ADetectorCaughtUpOnThePointsItsEntityKeptScoresLikeOneThatNeverStopped()
    {
        // A set written at point 1,000 and 40 more points scored: the state a crash leaves when the entity was written
        // after its detectors. Known answer: read back and fed the entity's raw window (points 976-1,039: the 24 before
        // 1,000 are skipped as already seen), it scores points 1,040-1,999 bit for bit as the set that never stopped.
        var y = Ramp(33);
        long At(int t) => 1_767_225_600_000L + t * 300_000L;
        var kept = new DetectorSet(alarmScore: 0.8, inlineTraining: true);
        for (int t = 0; t < 1000; t++) kept.Score("latency_ms", At(t), y[t]);
        var state = new DetectorState();
        kept.SaveTo(state);
        for (int t = 1000; t < 1040; t++) kept.Score("latency_ms", At(t), y[t]);

        var restored = new DetectorSet(alarmScore: 0.8, inlineTraining: true);
        restored.Load(state);
        Assert.Equal(40, restored.CatchUp("latency_ms", Enumerable.Range(976, 64).Select(t => (At(t), y[t]))));
        Assert.Equal(0, restored.CatchUp("latency_ms", Enumerable.Range(976, 64).Select(t => (At(t), y[t])))); // nothing twice
        for (int t = 1040; t < 2000; t++) Assert.Equal(kept.Score("latency_ms", At(t), y[t]), restored.Score("latency_ms", At(t), y[t]));

        // a series whose detector was never written learns the window it is given
        var fresh = new DetectorSet(alarmScore: 0.8, inlineTraining: true);
        Assert.Equal(64, fresh.CatchUp("latency_ms", Enumerable.Range(976, 64).Select(t => (At(t), y[t]))));
        Assert.Equal(1, fresh.Count);
    }
}
