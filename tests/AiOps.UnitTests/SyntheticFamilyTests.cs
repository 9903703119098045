namespace AiOps.UnitTests;

/// <summary>
/// Series families the NAB corpus lacks, each with a known answer: what must alarm (score &gt;= 0.8) and what must not.
/// Every family is checked on several seeds; "probation" is the first 15% of the series, as in NAB. The detectors are
/// set up as the grains set them up: told that 0.8 is the alarm level (<see cref="AnomalyDetector.AlarmScore"/>).
/// </summary>
public class SyntheticFamilyTests
{
    private const double Alarm = 0.8;

    private static AnomalyDetector Detector() => new() { AlarmScore = Alarm };
    private static readonly int[] Seeds = [31, 32, 33];

    private static double MaxScore(double[] s, int from, int to) => s.Skip(from).Take(to - from).Max();

    private static int Alarms(double[] s, int from, int to) => s.Skip(from).Take(to - from).Count(x => x >= Alarm);

    /// <summary>
    /// Scores the daily series <paramref name="make"/> draws for seeds 31-40, one point a day; asserts that no normal day
    /// (from day 30 to <paramref name="normalUntil"/>, the incident's days [<paramref name="from"/>, <paramref name="to"/>)
    /// left out) alarms, and returns on how many seeds the incident alarmed, with the misses.
    /// </summary>
    private static (int Found, string Missed) DailyIncidentAlarms(Func<int, double[]> make, int from, int to, int normalUntil)
    {
        int found = 0;
        var missed = new List<string>();
        for (int seed = 31; seed <= 40; seed++)
        {
            var s = Synthetic.Score(Detector(), make(seed), TimeSpan.FromDays(1));
            double normal = to < normalUntil ? Math.Max(MaxScore(s, 30, from), MaxScore(s, to, normalUntil)) : MaxScore(s, 30, from);
            Assert.True(normal < Alarm, $"seed {seed}: a normal day alarmed ({normal:F3})");
            double incident = MaxScore(s, from, to);
            if (incident >= Alarm) found++;
            else missed.Add($"seed {seed}: {incident:F3}");
        }
        return (found, string.Join(", ", missed));
    }

    [Fact]
    public void SlowlyDriftingNoiseLevelRaisesAtMostAnIsolatedAlarm()
    {
        // seasonal hourly series whose noise grows steadily from 1 to 4 over 4,000 points: a gradual change of the noise
        // is not an incident, the scales must follow it. The exact answer is no alarm; normal data has a false-alarm rate,
        // so the test counts alarm points on 40 seeds. Measured (after the probation): 20 alarm points in all, at most 3 in
        // one series (seed 33); 19 and at most 2 while the daily period waited for the first training. The test fails above
        // one alarm point per series on average or above 3 in any series. (It allowed one per series on 10 seeds until the
        // calendar test could run before the first training; on 60 other seeds the detector of that time had two alarm
        // points in 5 series, so that bound held on seeds 31-40 by luck, and the change moved seed 33 from 1 to 3 points
        // while the total stayed at 6.)
        int total = 0;
        for (int seed = 31; seed <= 70; seed++)
        {
            var y = Synthetic.DriftingNoise(4000, seed, from: 1, to: 4);
            var s = Synthetic.Score(Detector(), y);
            int alarms = Alarms(s, 600, y.Length);
            Assert.True(alarms <= 3, $"seed {seed}: {alarms} alarm points on drifting noise (max {MaxScore(s, 600, y.Length):F3})");
            total += alarms;
        }
        Assert.True(total <= 40, $"{total} alarm points on 40 series of drifting noise");
    }

    [Fact]
    public void StepChangeInVarianceStandsOutThenIsRelearned()
    {
        // same level and season, noise standard deviation 1 -> 6 at t = 2000, on 20 seeds.
        // Known answer: in its first 50 points the step scores above everything before it, and 1,200 points later it
        // is normal again. At the product's alarm level (0.8) it alarms on 20 of the 20 seeds (measured; 14 of 20 when
        // the refractory period started at 0.5, the CLI's default, whose first crossing damped the rest). The test fails
        // below 17 of 20.
        int alarmed = 0;
        for (int seed = 31; seed <= 50; seed++)
        {
            var y = Synthetic.VarianceStep(4000, seed, at: 2000, before: 1, after: 6);
            var s = Synthetic.Score(Detector(), y);
            double before = MaxScore(s, 600, 2000);
            double atStep = MaxScore(s, 2000, 2050);
            Assert.True(atStep > before, $"seed {seed}: the step ({atStep:F3} in its first 50 points) does not stand out from before it ({before:F3})");
            if (atStep >= Alarm) alarmed++;
            double late = MaxScore(s, 3200, y.Length);
            Assert.True(late < Alarm, $"seed {seed}: still alarming {late:F3} 1,200 points after the step");
        }
        Assert.True(alarmed >= 17, $"the variance step alarmed on {alarmed} of 20 seeds");
    }

    [Fact]
    public void MissingValuesAndTimestampGapsRaiseNoAlarmAndASpikeAfterAGapIsFound()
    {
        foreach (var seed in Seeds)
        {
            var rng = new Random(seed);
            var y = Synthetic.Seasonal(3000, seed);
            var d = Detector();
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
            // The exact answer is no alarm but the spike. The tolerance of one alarm point per series is the detector's
            // false-alarm rate on the same series without gaps at this alarm level (seed 31: one point, at t = 2,637);
            // measured with the gaps: none on seeds 31 and 33, one on seed 32 (0.872, 13 points after a hole).
            var others = scores.Where(p => p.T >= 450 && p.T != 2507 && p.S >= Alarm).ToList();
            double spike = scores.Single(p => p.T == 2507).S;
            Assert.True(others.Count <= 1, $"seed {seed}: {others.Count} false alarm points with missing data: {string.Join(", ", others.Select(p => $"t {p.T} {p.S:F3}"))}");
            Assert.True(spike >= Alarm, $"seed {seed}: spike after a gap scored {spike:F3}");
        }
    }

    /// <summary>
    /// Scores machine telemetry on an exact cycle (the ingest bench's series: 1 + (7t + <paramref name="phase"/>) mod 13,
    /// one reading a second) of which a random fifth of the readings never arrive, <paramref name="shift"/> added from
    /// second <paramref name="shiftAt"/>; returns the scores of the readings sent (NaN for the others).
    /// </summary>
    private static double[] ExactCycleWithReadingsMissing(int seed, int n, double shift = 0, int shiftAt = int.MaxValue)
    {
        var rng = new Random(seed);
        var d = Detector();
        var s = new double[n];
        for (int t = 0; t < n; t++)
        {
            s[t] = double.NaN;
            if (t > 0 && t != shiftAt && rng.NextDouble() < 0.2) continue;
            double v = 1 + (7 * t + seed) % 13 + (t >= shiftAt ? shift : 0);
            s[t] = d.Score(Synthetic.Start + TimeSpan.FromSeconds(t), v);
        }
        return s;
    }

    [Fact]
    public void AnExactCycleWithReadingsMissingAtRandomDoesNotAlarmButALevelShiftDoes()
    {
        // Known answer: the cycle with a fifth of its readings missing is normal, however long it runs; a level shift of a
        // sixth of the cycle's swing (+2 on values 1-13) is not. The residual of an exact cycle is next to nothing, while
        // its short-term level moves by the swing at every reading (more with readings missing) and keeps setting new
        // records by small margins: while the record margin was measured in residuals alone, 8 of 10 series alarmed (one
        // point each, 0.84-0.93) and in the ingest bench's detector-only run 6-28 % of 1,000 such series a round.
        var quiet = new List<string>();
        var found = 0;
        var missed = new List<string>();
        for (int seed = 31; seed <= 40; seed++)
        {
            var normal = ExactCycleWithReadingsMissing(seed, 8000);
            var alarms = Enumerable.Range(1000, 7000).Where(t => normal[t] >= Alarm).ToList();
            if (alarms.Count > 0) quiet.Add($"seed {seed}: {string.Join(", ", alarms.Select(t => $"t {t} {normal[t]:F3}"))}");
            var shifted = ExactCycleWithReadingsMissing(seed, 8000, shift: 2, shiftAt: 6000);
            double before = Enumerable.Range(1000, 5000).Where(t => !double.IsNaN(shifted[t])).Max(t => shifted[t]);
            double after = Enumerable.Range(6000, 300).Where(t => !double.IsNaN(shifted[t])).Max(t => shifted[t]);
            if (after >= Alarm) found++;
            else missed.Add($"seed {seed}: {after:F3} (before {before:F3})");
        }
        Assert.True(quiet.Count == 0, $"alarms on the exact cycle: {string.Join("; ", quiet)}");
        Assert.True(found >= 8, $"the level shift alarmed on {found} of 10: {string.Join(", ", missed)}");
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
            var d = Detector();
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
            var quiet = Synthetic.Score(Detector(), y);
            int alarms = Alarms(quiet, 600, y.Length);
            Assert.True(alarms <= 1, $"seed {seed}: ordinary zero hours raised {alarms} alarm points (max {MaxScore(quiet, 600, y.Length):F3})");

            // a surge: 8 times the usual spend in the busiest hour of the day
            var surge = (double[])y.Clone();
            surge[3486] = 8 * Synthetic.SpendLevel(3486);
            var ss = Synthetic.Score(Detector(), surge);
            Assert.True(ss[3486] >= Alarm, $"seed {seed}: spend surge scored {ss[3486]:F3}");
        }
    }

    /// <summary>The view of the highest-scoring point in [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="y"/>, and its score.</summary>
    private static (AnomalyView View, double Score) ViewAtPeak(double[] y, TimeSpan step, int from, int to)
    {
        var d = Detector();
        var peak = (View: AnomalyView.None, Score: -1.0);
        for (int t = 0; t < y.Length; t++)
        {
            double sc = d.Score(Synthetic.Start + step * t, y[t]);
            if (t >= from && t < to && sc > peak.Score) peak = (d.LastView, sc);
        }
        return peak;
    }

    [Fact]
    public void AnAlarmSaysWhichViewFoundIt()
    {
        // Known answers, 10 seeds each: a 20-sd spike in an hourly seasonal series is found by the point view; the fifth day
        // of a 5-minute daily series left at its level (no daily cycle) by the pattern view; a rise of 8 sd over 150 points
        // of a flat series by the level view. The view reported is the one with the highest surprise at the incident's
        // top-scoring point; alerts carry it as their reason (point, pattern, level). Measured: 10, 9 and 9 of 10 (seed 33's
        // flat day peaks at a point whose own residual is larger, seed 34's rise where a reading jumps). A step of 8 sd
        // at once is the point view's (6 of 10): its first reading is far from the ones before, which is what it is.
        // The test fails below 9 of 10 for any of the three.
        var seen = new List<string>();
        int point = 0, pattern = 0, level = 0;
        for (int seed = 31; seed <= 40; seed++)
        {
            var spiky = Synthetic.Seasonal(3000, seed);
            spiky[2500] += 40;
            var a = ViewAtPeak(spiky, TimeSpan.FromHours(1), 2500, 2501);
            var b = ViewAtPeak(Synthetic.FlattenedDay(2400, seed, flatFrom: 1440), TimeSpan.FromMinutes(5), 1440, 1728);
            var c = ViewAtPeak(Synthetic.RampedShift(4000, seed, at: 3000, ramp: 150, shift: 8), TimeSpan.FromMinutes(5), 3000, 3400);
            if (a.View == AnomalyView.Point) point++;
            if (b.View == AnomalyView.Pattern) pattern++;
            if (c.View == AnomalyView.Level) level++;
            seen.Add($"seed {seed}: spike {a.View} {a.Score:F3}, flat day {b.View} {b.Score:F3}, rise {c.View} {c.Score:F3}");
        }
        Assert.True(point >= 9 && pattern >= 9 && level >= 9, string.Join("; ", seen));
    }

    [Fact]
    public void AGradualIncidentAlarmsWhenItReachesTheAlarmLevel()
    {
        // level 10, noise sd 1, 5-minute steps; at t = 3,000 the level rises by 8 (8 sd), linearly over 20, 60 or 150
        // points. Known answer: an alarm (0.8) within 400 points of the start, and none in the normal stretch before.
        // The detector is told the alarm level the grains use (AlarmScore = 0.8), so its refractory period starts there.
        // With the refractory period starting at 0.5 (the CLI's default) the first, weaker crossing of 0.5 damped the rest
        // of the incident: 8, 5 and 3 of 10 seeds reached 0.8 (measured); with 0.8, 10 of 10 each, and 1 alarm point in the
        // 24,000 normal points before. The test fails below 27 of 30 or above one alarm point per series before the shift.
        int reached = 0;
        var missed = new List<string>();
        foreach (var ramp in new[] { 20, 60, 150 })
            for (int seed = 31; seed <= 40; seed++)
            {
                var y = Synthetic.RampedShift(4000, seed, at: 3000, ramp: ramp, shift: 8);
                var s = Synthetic.Score(Detector(), y, TimeSpan.FromMinutes(5));
                int before = Alarms(s, 600, 3000);
                Assert.True(before <= 1, $"ramp {ramp}, seed {seed}: {before} alarm points before the shift (max {MaxScore(s, 600, 3000):F3})");
                double m = MaxScore(s, 3000, 3400);
                if (m >= Alarm) reached++;
                else missed.Add($"ramp {ramp} seed {seed}: {m:F3}");
            }
        Assert.True(reached >= 27, $"the gradual shift alarmed on {reached} of 30 series; missed: {string.Join(", ", missed)}");
    }

    [Fact]
    public void TheDailyPeriodOfFiveMinuteDataIsUsedOnceThreeDaysAreHeld()
    {
        // 864 points hold three days of 5-minute data, enough for the calendar test; the training schedule (256, 512, 768,
        // then every 2,048) would first test it at 2,816 points. Known answer: the period is in use by point 900.
        var y = Synthetic.FlattenedDay(900, 31, flatFrom: int.MaxValue);
        var d = Detector();
        var dt = TimeSpan.FromMinutes(5);
        for (int t = 0; t < y.Length; t++)
        {
            d.Score(Synthetic.Start + dt * t, y[t]);
            if (t == 862) Assert.Equal(0, d.SeasonalPeriod); // 863 points: not testable yet
        }
        Assert.Equal(288, d.SeasonalPeriod);
    }

    [Fact]
    public void ReadingsStampedOffScheduleScoreAsIfStampedOnIt()
    {
        // The 5-minute daily series with a flattened fifth day (the family below), each reading stamped up to 60 seconds
        // (20 % of the step) before or after its slot, independently: readings taken on a schedule and stamped when they
        // arrive. Known answer: the same scores as with exact timestamps, the daily period included. Before the step was
        // refined on slots taken from the first timestamp, it came out a few seconds off a divisor of a day (no calendar
        // period: 0 instead of 288); and beyond a quarter step of jitter, a late reading followed by an early one added a
        // point that was never taken back.
        foreach (var seed in Seeds)
        {
            var y = Synthetic.FlattenedDay(2400, seed, flatFrom: 1440);
            var step = TimeSpan.FromMinutes(5);
            var rng = new Random(seed);
            AnomalyDetector exact = Detector(), jittered = Detector();
            for (int t = 0; t < y.Length; t++)
            {
                var on = Synthetic.Start + step * t;
                var off = on + TimeSpan.FromSeconds(Math.Round((rng.NextDouble() * 2 - 1) * 60));
                double a = exact.Score(on, y[t]), b = jittered.Score(off, y[t]);
                Assert.True(a == b, $"seed {seed}, point {t}: {b} with jittered timestamps, {a} with exact ones");
            }
            Assert.Equal(288, exact.SeasonalPeriod);
            Assert.Equal(288, jittered.SeasonalPeriod);
        }
    }

    [Fact]
    public void AQuantisedSeriesRestingOnItsFloorDoesNotAlarm()
    {
        // 5-minute readings quantised to 0.5 above a floor of 2 (60 % of them at the floor), then 300 points (25 hours)
        // at the floor, on 6 seeds. Known answer: resting on the value the series holds most is not an incident (no alarm,
        // and no score above what the ordinary points before reached). Measured before values equal to the level counted
        // half on each side of it: 0.80-0.85 on 6 of 6 seeds, 64-70 points into the rest, when the short-term level had
        // come to equal the floor to the last bit (level novelty ~5); after: at most 0.002.
        for (int seed = 31; seed <= 36; seed++)
        {
            var rng = new Random(seed);
            var y = new double[4000];
            for (int t = 0; t < y.Length; t++)
                y[t] = t is >= 3000 and < 3300 || rng.NextDouble() < 0.6 ? 2.0 : 2.0 + 0.5 * rng.Next(1, 5);
            var s = Synthetic.Score(Detector(), y, TimeSpan.FromMinutes(5));
            double before = MaxScore(s, 600, 3000), rest = MaxScore(s, 3000, 3300);
            Assert.True(rest <= Math.Max(before, 0.1), $"seed {seed}: {rest:F3} while resting on the floor (before: {before:F3})");
            Assert.Equal(0, Alarms(s, 3000, 3300));
        }
    }

    [Fact]
    public void AnOnOffLoadOnAFixedScheduleDoesNotAlarmWhenTheModelIsRetrained()
    {
        // A job on a daily schedule, read every 20 minutes (a day = 72 points): the load is high for 4-20 hours a day and
        // low otherwise, exact values as a scheduler or a counter writes them; 12 seeds draw the levels, the on-time and
        // the phase. Known answer: nothing in it is an incident. Measured before the shape unit was floored at 1 % of the
        // windows' RMS size: an alarm point (1.000) right after a re-training (points 525-539 and 2,817-2,818) on 5 of 12
        // seeds; the median training error of the mostly flat windows was float noise (1,498 at one training, 0.028 at
        // the next). After: none, at most 0.614.
        var alarmed = new List<string>();
        for (int seed = 31; seed <= 42; seed++)
        {
            var rng = new Random(seed);
            double low = rng.Next(0, 50), high = low + rng.Next(10, 100);
            int on = rng.Next(12, 61), phase = rng.Next(72);
            var y = new double[3000];
            for (int t = 0; t < y.Length; t++) y[t] = (t + phase) % 72 < on ? high : low;
            var s = Synthetic.Score(Detector(), y, TimeSpan.FromMinutes(20));
            double max = MaxScore(s, 300, y.Length);
            if (Alarms(s, 300, y.Length) > 0) alarmed.Add($"seed {seed}: {max:F3} at point {Array.IndexOf(s, max)}");
        }
        Assert.Empty(alarmed);
    }

    [Fact]
    public void AnOutageOfDaysLeavesTheDailyProfileInPhase()
    {
        // 5-minute daily series (level 50, amplitude 20, noise sd 1) with no readings for 700 points (2.4 days) from point
        // 2,000, on 10 seeds. Known answer: after the outage the series is as normal as before it; the alarm rate stays
        // that of normal data. Measured: an alarm point after the outage on 2 of 10 seeds (none before it, from point 600);
        // on 9 of 10 when a long outage was filled with 64 points whatever the period (every later reading then compared
        // with the profile of another hour). The test fails above 3.
        int seedsWithAlarms = 0;
        for (int seed = 31; seed <= 40; seed++)
        {
            var y = Synthetic.FlattenedDay(4000, seed, flatFrom: int.MaxValue);
            var d = Detector();
            var step = TimeSpan.FromMinutes(5);
            int alarms = 0;
            for (int t = 0; t < y.Length; t++)
            {
                if (t is >= 2000 and < 2700) continue;
                double s = d.Score(Synthetic.Start + step * t, y[t]);
                if (t >= 600 && t < 2000) Assert.True(s < Alarm, $"seed {seed}: alarm at {t}, before the outage");
                if (t >= 2700 && s >= Alarm) alarms++;
            }
            Assert.Equal(288, d.SeasonalPeriod);
            if (alarms > 0) seedsWithAlarms++;
        }
        Assert.True(seedsWithAlarms <= 3, $"{seedsWithAlarms} of 10 seeds alarm after the outage");
    }

    [Fact]
    public void OneBadEarlyReadingDoesNotHideTheDailyPeriod()
    {
        // The 5-minute daily series (level 50, amplitude 20, noise sd 1) with one reading at point 100 written as
        // 20,000 (a counter reset, a unit slip). Known answer: the daily period is in use once three days are held
        // (point 864), as without the glitch. Before the seasonality test left out values beyond the far-out fences when
        // there are too few of them to be seasonal, the glitch dominated the autocorrelation and the series had no
        // period until it left the history (0 at point 900).
        foreach (var seed in Seeds)
        {
            var y = Synthetic.FlattenedDay(900, seed, flatFrom: int.MaxValue);
            y[100] = 20_000;
            var d = Detector();
            Synthetic.Score(d, y, TimeSpan.FromMinutes(5));
            Assert.Equal(288, d.SeasonalPeriod);
        }
    }

    [Fact]
    public void CalendarPeriodsOfHourlyAndDailyDataAreUsedBeforeTheFirstTraining()
    {
        // Three periods are held at 72 hourly points (the day) and at 21 daily points (the week), before the first
        // training at 256 points. Known answer: each period is in use as soon as it is testable.
        var hourly = Detector();
        var y = Synthetic.Seasonal(80, 31);
        for (int t = 0; t < y.Length; t++)
        {
            hourly.Score(Synthetic.Start + TimeSpan.FromHours(t), y[t]);
            if (t == 70) Assert.Equal(0, hourly.SeasonalPeriod); // 71 points: not testable yet
        }
        Assert.Equal(24, hourly.SeasonalPeriod);

        var daily = Detector();
        var spend = Synthetic.DailySpend(30, 31);
        for (int t = 0; t < spend.Length; t++)
        {
            daily.Score(Synthetic.Start.AddDays(t), spend[t]);
            if (t == 19) Assert.Equal(0, daily.SeasonalPeriod);
        }
        Assert.Equal(7, daily.SeasonalPeriod);
    }

    [Fact]
    public void AnHourlyDayWithoutItsDailyPatternInTheFirstWeekStandsOut()
    {
        // Hourly daily series whose sixth day (points 120-143) stays at the level, on 10 seeds. Known answer: that day
        // scores above everything in the normal days before it (from point 36, the probation of 240 points). Measured:
        // 10 of 10 with the daily period in use from point 72 (during the day 0.020-0.058, before 0.002-0.011: a seasonal
        // view a few days old is uncertain, the day stands out without alarming); 0 of 10 while the period waited for the
        // first training at 256 points (0.000 during, 0.001-0.002 before). Seed 31 alarmed at 0.96 two points after the
        // period came into use until a calibrator needed 50 values before extrapolating beyond its maximum. The test
        // fails below 8 of 10, or if a normal day before it alarms.
        int stoodOut = 0;
        var missed = new List<string>();
        for (int seed = 31; seed <= 40; seed++)
        {
            var y = Synthetic.FlattenedDay(240, seed, flatFrom: 120, period: 24);
            var s = Synthetic.Score(Detector(), y);
            double before = MaxScore(s, 36, 120), during = MaxScore(s, 120, 144);
            Assert.True(Alarms(s, 36, 120) == 0, $"seed {seed}: alarm before the flattened day (max {before:F3})");
            if (during > before) stoodOut++;
            else missed.Add($"seed {seed}: {during:F3} during, {before:F3} before");
        }
        Assert.True(stoodOut >= 8, $"the flattened day stood out on {stoodOut} of 10 series; missed: {string.Join(", ", missed)}");
    }

    [Fact]
    public void ADayWithoutItsDailyPatternInTheFirstWeekStandsOut()
    {
        // 5-minute daily series whose fifth day (points 1,440-1,727) stays at the level instead of following the daily
        // cycle, on 10 seeds. Known answer: that day scores above everything in the normal days before it (from point 300).
        // Measured: 10 of 10 with the period found once three days are held (scores during the day 0.48-0.78, before 0.20-0.60;
        // none of the normal points reaches 0.8); 2 of 10 with the period left to the training at 2,816 points (the
        // flattened day then scores 0.03-0.35). The test fails below 8 of 10, or if a normal day before it alarms.
        int stoodOut = 0;
        var missed = new List<string>();
        for (int seed = 31; seed <= 40; seed++)
        {
            var y = Synthetic.FlattenedDay(2400, seed, flatFrom: 1440);
            var s = Synthetic.Score(Detector(), y, TimeSpan.FromMinutes(5));
            double before = MaxScore(s, 300, 1440), during = MaxScore(s, 1440, 1728);
            Assert.True(Alarms(s, 300, 1440) == 0, $"seed {seed}: alarm before the flattened day (max {before:F3})");
            if (during > before) stoodOut++;
            else missed.Add($"seed {seed}: {during:F3} during, {before:F3} before");
        }
        Assert.True(stoodOut >= 8, $"the flattened day stood out on {stoodOut} of 10 series; missed: {string.Join(", ", missed)}");
    }

    [Fact]
    public void DailyDataIsModelledAfterNineWeeksNotAfter256Days()
    {
        // The first training waits for 256 points: 21 hours of 5-minute data, 11 days of hourly data, but 256 days of
        // daily data. Coarse data trains once the history spans three weeks and holds 64 points. Known answer: a daily
        // series has its model at point 64 (not at 63); an hourly series still at 256 (not at 255).
        var daily = Detector();
        var spend = Synthetic.DailySpend(64, 31);
        for (int t = 0; t < spend.Length; t++)
        {
            daily.Score(Synthetic.Start.AddDays(t), spend[t]);
            if (t == 62) Assert.False(daily.HasModel);
        }
        Assert.True(daily.HasModel);

        var hourly = Detector();
        var y = Synthetic.Seasonal(256, 31);
        for (int t = 0; t < y.Length; t++)
        {
            hourly.Score(Synthetic.Start + TimeSpan.FromHours(t), y[t]);
            if (t == 254) Assert.False(hourly.HasModel);
        }
        Assert.True(hourly.HasModel);
    }

    [Fact]
    public void ADailySpendSpikeAlarmsInTheFirstYear()
    {
        // Daily spend (weekdays 1,000, weekends 600, 5 % noise) that doubles for one weekday (day 173, a Tuesday), on 10
        // seeds. Known answer: the day alarms, and no normal day after the probation (day 30) does. Measured: 9 of 10 alarm
        // (0.70-0.96; normal days at most 0.02-0.24, 0.04-0.24 while the alarm point was learned as it was); 8 of 10 (0.70-0.95; normal days at most 0.02-0.27) before records
        // counted on coarse data from the first training, 0.02-0.22 before the refractory span was capped at a week. Before the
        // models trained at 64 points and the residual was replayed when the weekly period came into use: 2 of 10
        // (0.03-0.90; normal days at most 0.01-0.10), the first training was at day 256 and the residual kept the weekends
        // of the first three weeks as its scale; with the early training alone, 6 of 10. The test fails below 8 of 10 or on
        // any alarm on a normal day.
        var (found, missed) = DailyIncidentAlarms(seed =>
        {
            var y = Synthetic.DailySpend(200, seed);
            y[173] *= 2;
            return y;
        }, from: 173, to: 174, normalUntil: 200);
        Assert.True(found >= 8, $"the doubled day alarmed on {found} of 10 series; missed: {missed}");
    }

    [Fact]
    public void ALaterIncidentOfDailySpendIsNotMutedByAnEarlierAlarm()
    {
        // Daily spend doubled on day 173 (it alarms on 9 of 10 seeds, see above), then 500 higher every day from day 215
        // (weekdays 1,500, weekends 1,100: a resource left running), 10 seeds. Known answer: the second incident scores
        // above every normal day (from day 30, the doubled day left out) within its first 10 days, and alarms. Measured: it
        // stands out on 10 of 10 (0.77-0.95 against at most 0.04-0.24) and alarms on 8 of 10. While the doubled day was
        // learned as it was (LearnSlowAlarmPoints): 10 of 10 stood out but none alarmed (0.54-0.77 against at most
        // 0.04-0.24). While the refractory span was 150 points (150 days) however coarse the data: 2 of 10 stood out, the
        // two where the doubled day did not alarm; after an alarm the shift stayed at 0.012-0.019. The test fails when fewer
        // than 8 of 10 stand out or 7 of 10 alarm, or on any alarm on a normal day.
        int stoodOut = 0, alarmed = 0;
        var missed = new List<string>();
        for (int seed = 31; seed <= 40; seed++)
        {
            var y = Synthetic.DailySpend(240, seed);
            y[173] *= 2;
            for (int t = 215; t < y.Length; t++) y[t] += 500;
            var s = Synthetic.Score(Detector(), y, TimeSpan.FromDays(1));
            double normal = Math.Max(MaxScore(s, 30, 173), MaxScore(s, 174, 215)), shift = MaxScore(s, 215, 225);
            Assert.True(normal < Alarm, $"seed {seed}: a normal day alarmed ({normal:F3})");
            if (shift > normal) stoodOut++;
            else missed.Add($"seed {seed}: {shift:F3} against {normal:F3}");
            if (shift >= Alarm) alarmed++;
        }
        Assert.True(stoodOut >= 8, $"the second incident stood out on {stoodOut} of 10 series; missed: {string.Join(", ", missed)}");
        Assert.True(alarmed >= 7, $"the second incident alarmed on {alarmed} of 10 series");
    }

    [Fact]
    public void ARepeatOfADailySpendIncidentAlarmsLikeTheFirst()
    {
        // Daily spend doubled on day 173 and again on day 229 (both Tuesdays, eight weeks apart), 10 seeds: the same
        // incident twice (a job that runs away every other month). Known answer: where the first alarms, the second does
        // too, and no normal day from day 30 alarms. Measured: the first alarms on 9 of 10 (0.90-0.96), the second on those
        // 9 (0.93-0.98); normal days at most 0.04-0.25. While the first was learned as it was (LearnSlowAlarmPoints: it
        // stayed the largest value every calibrator held), the second scored 0.09-0.58 and none alarmed. The test fails
        // when the second alarms on fewer than 8 of the series where the first did.
        int firsts = 0, repeats = 0;
        var missed = new List<string>();
        for (int seed = 31; seed <= 40; seed++)
        {
            var y = Synthetic.DailySpend(260, seed);
            y[173] *= 2;
            y[229] *= 2;
            var s = Synthetic.Score(Detector(), y, TimeSpan.FromDays(1));
            double normal = Math.Max(MaxScore(s, 30, 173), Math.Max(MaxScore(s, 174, 229), MaxScore(s, 230, 260)));
            Assert.True(normal < Alarm, $"seed {seed}: a normal day alarmed ({normal:F3})");
            if (s[173] < Alarm) continue;
            firsts++;
            if (s[229] >= Alarm) repeats++;
            else missed.Add($"seed {seed}: {s[229]:F3}");
        }
        Assert.True(firsts >= 8, $"the first doubled day alarmed on {firsts} of 10 series");
        Assert.True(repeats >= 8, $"the repeat alarmed on {repeats} of the {firsts} series where the first did; missed: {string.Join(", ", missed)}");
    }

    [Fact]
    public void ARepeatOfAnHourlyIncidentAlarmsLikeTheFirst()
    {
        // Hourly daily series (level 100, amplitude 20, noise sd 2), 16 higher (8 sd) at hour 2,000 and again at hour 2,720,
        // 30 days later, 10 seeds. Known answer: the repeat alarms like the first. Measured: the first alarms on 10 of 10
        // (0.88-0.98), the repeat on 9 (0.97-0.99; on seed 34 an ordinary hour 11 points before it alarmed at 0.83 and the
        // refractory period muted it). While the first was learned as it was (LearnSlowAlarmPoints): 6 of 10 (0.04-0.98).
        // The price: without the incident in the calibrators, ordinary extremes reach further into their tail; 2 series
        // have an alarm on an ordinary hour from hour 600 (0.82, 0.83), 1 before (0.84). The test fails when fewer than 8
        // repeats alarm or more than 3 series alarm on an ordinary hour.
        int repeats = 0, falseAlarms = 0;
        for (int seed = 31; seed <= 40; seed++)
        {
            var y = Synthetic.Seasonal(3500, seed, level: 100, amp: 20, noise: 2);
            y[2000] += 16;
            y[2720] += 16;
            var s = Synthetic.Score(Detector(), y);
            Assert.True(s[2000] >= Alarm, $"seed {seed}: the first did not alarm ({s[2000]:F3})");
            if (s[2720] >= Alarm) repeats++;
            if (Enumerable.Range(600, s.Length - 600).Any(t => t is not (2000 or 2720) && s[t] >= Alarm)) falseAlarms++;
        }
        Assert.True(repeats >= 8, $"the repeat alarmed on {repeats} of 10 series");
        Assert.True(falseAlarms <= 3, $"{falseAlarms} of 10 series alarmed on an ordinary hour");
    }

    [Fact]
    public void ADailySpendStepAlarmsWithinTenDays()
    {
        // Daily spend (weekdays 1,000, weekends 600, 5 % noise) 40 % higher on every day from day 173 (a Tuesday), 10
        // seeds: a workload that grew, a discount that ended. Known answer: the step alarms within its first 10 days, and no
        // normal day after the probation (day 30) does. Measured: 7 of 10 alarm, on the step's second or third day
        // (0.69-0.92 within 10 days; normal days at most 0.02-0.23). Before records counted on coarse data from the first
        // training (they waited for 2,048 points, 5.6 years of daily data): 3 of 10 (0.64-0.90), the level's novelty among
        // 173 values being all the evidence a new high had. The test fails below 6 of 10 or on any alarm on a normal day.
        var (found, missed) = DailyIncidentAlarms(seed =>
        {
            var y = Synthetic.DailySpend(200, seed);
            for (int t = 173; t < y.Length; t++) y[t] *= 1.4;
            return y;
        }, from: 173, to: 183, normalUntil: 183);
        Assert.True(found >= 6, $"the step alarmed on {found} of 10 series; missed: {missed}");
    }

    [Fact]
    public void ABusinessDaySpendSpikeAlarms()
    {
        // Daily spend reported on business days only (weekends missing: the gaps are filled), Mondays 15 % higher, doubled
        // on one Tuesday (day 222; Synthetic.Start is a Thursday), 10 seeds. Known answer: the day alarms, and no normal
        // day after the probation (the 30th reported day) does. Measured: 10 of 10 alarm (0.93-0.99; normal days at most
        // 0.05-0.40, 0.04-0.32 while the alarm point was learned as it was; 0.89-0.97 and 0.05-0.37 before records counted on coarse data from the first training). Before coarse
        // data trained after three weeks and the residual was replayed with the weekly period:
        // 1 of 10 (0.01-0.89; normal days at most 0.003-0.16). The test fails below 8 of 10 or on any alarm on a normal day.
        Assert.Equal(DayOfWeek.Tuesday, Synthetic.Start.AddDays(222).DayOfWeek);
        int found = 0;
        var missed = new List<string>();
        for (int seed = 31; seed <= 40; seed++)
        {
            var points = Synthetic.BusinessDaySpend(300, seed);
            var d = Detector();
            double spike = double.NaN, normal = 0;
            for (int i = 0; i < points.Length; i++)
            {
                var (day, value) = points[i];
                bool isSpike = day == 222;
                double s = d.Score(Synthetic.Start.AddDays(day), isSpike ? 2 * value : value);
                if (isSpike) spike = s;
                else if (i >= 30) normal = Math.Max(normal, s);
            }
            Assert.True(normal < Alarm, $"seed {seed}: a normal day alarmed ({normal:F3})");
            if (spike >= Alarm) found++;
            else missed.Add($"seed {seed}: {spike:F3}");
        }
        Assert.True(found >= 8, $"the doubled day alarmed on {found} of 10 series; missed: {string.Join(", ", missed)}");
    }

    [Fact]
    public void ASeriesOnLocalTimeDoesNotAlarmAtADaylightSavingChangeWhenItsZoneIsKnown()
    {
        // Daytime activity on Berlin's clock, stamped in UTC, 3 weeks before and 9 days after each 2026 change (spring
        // forward 29 March, fall back 25 October), 5-minute and hourly readings, seeds 31-40: 40 series. Known answer:
        // told the zone (LocalTime), the detector compares each reading with the same local time a day ago, and the two
        // days after a change alarm no more than other days do; not told, its daily profile has moved by an hour in UTC.
        // Measured: without the zone 20 of 20 five-minute series alarm in those two days (at the first shifted morning ramp),
        // and 9 of 20 hourly ones (a shift of one step); with it none of the 40. Fails above 3 of 40, or when fewer than 18
        // of the 20 five-minute series alarm without the zone (the family would no longer show what it is for).
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        int withZone = 0, withoutZone = 0;
        var notes = new List<string>();
        foreach (var change in new[] { new DateTime(2026, 3, 29, 1, 0, 0, DateTimeKind.Utc), new DateTime(2026, 10, 25, 1, 0, 0, DateTimeKind.Utc) })
            foreach (var step in new[] { TimeSpan.FromMinutes(5), TimeSpan.FromHours(1) })
                for (int seed = 31; seed <= 40; seed++)
                {
                    var start = change - TimeSpan.FromDays(21) - TimeSpan.FromHours(1);
                    var points = Synthetic.LocalDaytime((int)(TimeSpan.FromDays(30) / step), seed, start, step, zone);
                    bool AlarmsAfterTheChange(TimeZoneInfo? localTime)
                    {
                        var d = new AnomalyDetector { AlarmScore = Alarm, LocalTime = localTime };
                        bool alarmed = false;
                        foreach (var (utc, value) in points)
                        {
                            double s = d.Score(utc, value);
                            if (utc >= change && utc < change + TimeSpan.FromDays(2) && s >= Alarm) alarmed = true;
                        }
                        Assert.Equal((int)(TimeSpan.FromDays(1) / step), d.SeasonalPeriod);
                        return alarmed;
                    }
                    if (AlarmsAfterTheChange(zone)) { withZone++; notes.Add($"{change:MMM} {step.TotalMinutes} min seed {seed}"); }
                    if (AlarmsAfterTheChange(null) && step < TimeSpan.FromHours(1)) withoutZone++;
                }
        Assert.True(withZone <= 3, $"{withZone} of 40 series alarm after the change with the zone known: {string.Join(", ", notes)}");
        Assert.True(withoutZone >= 18, $"without the zone only {withoutZone} of 20 five-minute series alarm after the change: the family no longer shows the shift");
    }

    [Fact]
    public void AZoneWithAFixedOffsetOrOnDailyDataScoresAsUtc()
    {
        // LocalTime only moves the seasonal look-up where the zone's offset changed within the period, by the change in
        // whole steps: a zone with a fixed offset (and UTC itself) scores bit for bit as no zone, and so does daily data.
        var y = Synthetic.FlattenedDay(3000, 31, flatFrom: 2500);
        var step = TimeSpan.FromMinutes(5);
        var expected = Synthetic.Score(Detector(), y, step);
        foreach (var zone in new[] { TimeZoneInfo.Utc, TimeZoneInfo.CreateCustomTimeZone("fixed+05:30", TimeSpan.FromHours(5.5), "fixed", "fixed") })
            Assert.Equal(expected, Synthetic.Score(new AnomalyDetector { AlarmScore = Alarm, LocalTime = zone }, y, step));

        // daily data across both 2026 changes: an hour is less than half a step, nothing moves
        var spend = Synthetic.DailySpend(300, 31);
        spend[173] *= 2;
        var day = TimeSpan.FromDays(1);
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        Assert.Equal(Synthetic.Score(Detector(), spend, day), Synthetic.Score(new AnomalyDetector { AlarmScore = Alarm, LocalTime = berlin }, spend, day));
    }

    [Fact]
    public void AlarmScoreMustBeAScore()
    {
        var d = new AnomalyDetector();
        Assert.Equal(0.5, d.AlarmScore);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.AlarmScore = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.AlarmScore = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.AlarmScore = double.NaN);
    }
}
