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
}
