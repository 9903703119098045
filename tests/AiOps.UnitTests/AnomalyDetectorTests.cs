namespace AiOps.UnitTests;

public class AnomalyDetectorTests
{
    /// <summary>Score at which an operator would be alerted (see docs/intelligence.md).</summary>
    private const double Alarm = 0.8;

    [Fact]
    public void SpikeInSeasonalSeriesGetsTheTopScore()
    {
        var y = Synthetic.Seasonal(2000, seed: 1);
        y[1500] += 30; // 15 sigma
        var s = Synthetic.Score(new AnomalyDetector(), y);
        Assert.True(s[1500] >= Alarm, $"spike score {s[1500]:F3}");
        double otherMax = s.Skip(400).Where((_, i) => i + 400 != 1500).Max();
        Assert.True(s[1500] > otherMax, $"spike {s[1500]:F3} vs other max {otherMax:F3}");
    }

    [Fact]
    public void SeasonalSeriesWithoutAnomaliesRaisesNoAlarm()
    {
        foreach (var seed in new[] { 2, 3, 4 })
        {
            var y = Synthetic.Seasonal(3000, seed);
            var s = Synthetic.Score(new AnomalyDetector(), y);
            double max = s.Skip(450).Max(); // after NAB-like probation (15%)
            Assert.True(max < Alarm, $"seed {seed}: false alarm score {max:F3}");
        }
    }

    [Fact]
    public void LevelShiftIsDetectedThenRelearned()
    {
        var rng = new Random(5);
        var y = new double[2500];
        for (int t = 0; t < y.Length; t++) y[t] = (t < 1200 ? 50 : 80) + 2 * Synthetic.Gaussian(rng);
        var s = Synthetic.Score(new AnomalyDetector(), y);
        double atShift = s.Skip(1200).Take(10).Max();
        Assert.True(atShift >= Alarm, $"shift score {atShift:F3}");
        double before = s.Skip(400).Take(800).Max();
        Assert.True(atShift > before, $"shift {atShift:F3} vs before {before:F3}");
        // re-learned: the new level is normal after a while
        double late = s.Skip(1700).Max();
        Assert.True(late < Alarm, $"still alarming after the shift: {late:F3}");
    }

    [Fact]
    public void TheDerivedRecordBoostLiesBetweenNoneAndTwoOrders()
    {
        // A block of 500 noise values repeated (so no level after the first block is a record), then, at point 6,000, a
        // sustained step: its short-term level becomes a record of the whole history. The derived boost (an option, off
        // by default) is log10(N+1 / n+1) = 0.47 orders there; at the first point where a boost changes the score, the
        // score with it lies strictly between the scores with none and with 2 orders (all without the margin).
        var rng = new Random(11);
        var block = new double[500];
        for (int i = 0; i < block.Length; i++) block[i] = Synthetic.Gaussian(rng);
        var y = new double[6100];
        for (int t = 0; t < y.Length; t++) y[t] = block[t % block.Length] + (t < 6000 ? 0 : 2.0);
        double[] Run(double boost) =>
            Synthetic.Score(new AnomalyDetector(new AnomalyDetectorOptions { RecordLevelBoost = boost, RecordMarginNoise = 0 }), y);
        var none = Run(0);
        var derived = Run(-1);
        var two = Run(2);
        int first = Enumerable.Range(0, y.Length).First(i => none[i] != two[i]);
        Assert.True(first >= 6000, $"a boost changed point {first}, before the step");
        Assert.True(none[first] < derived[first] && derived[first] < two[first],
            $"point {first}: none {none[first]:F4}, derived {derived[first]:F4}, 2 orders {two[first]:F4}");
    }

    [Fact]
    public void TrendChangeIsDetected()
    {
        var rng = new Random(6);
        var y = new double[2000];
        double level = 100;
        for (int t = 0; t < y.Length; t++)
        {
            if (t >= 1300) level += 0.8; // from flat to a steep ramp
            y[t] = level + 1.0 * Synthetic.Gaussian(rng);
        }
        // read at the level it asserts (the grains' 0.8): the refractory period starts where the reader alarms
        var s = Synthetic.Score(new AnomalyDetector { AlarmScore = Alarm }, y);
        double before = s.Skip(400).Take(900).Max();
        double after = s.Skip(1300).Take(100).Max();
        Assert.True(after >= Alarm, $"trend change score {after:F3}");
        Assert.True(after > before, $"after {after:F3} vs before {before:F3}");
    }

    [Fact]
    public void ScoresAreInUnitIntervalAndGapsAreHandled()
    {
        var y = Synthetic.Seasonal(1500, seed: 7);
        var d = new AnomalyDetector();
        int k = 0;
        for (int t = 0; t < y.Length; t++)
        {
            if (t % 200 == 100) { k += 30; continue; } // 30-hour gap in the timestamps
            double v = t % 97 == 0 ? double.NaN : y[t];
            double s = d.Score(Synthetic.Start + TimeSpan.FromHours(t + k), v);
            Assert.InRange(s, 0.0, 1.0);
            if (double.IsNaN(v)) Assert.Equal(0.0, s);
        }
        Assert.True(d.HasModel);
        Assert.Equal(24, d.SeasonalPeriod);
    }

    [Fact]
    public void TheStepIsASingleIntervalWhenMostFirstIntervalsSpanMissedReadings()
    {
        // hourly daily series whose first nine intervals are 1, 2, 2, 1, 2, 2, 2, 1, 2 hours (their median is two hours),
        // then every hour. Known answer: the step is one hour and the daily period 24 points. With the median as the step
        // (two hours), no calendar period fits the history (0).
        var y = Synthetic.Seasonal(720, seed: 9);
        int[] first = [0, 1, 3, 5, 6, 8, 10, 12, 13, 15];
        var d = new AnomalyDetector();
        foreach (var h in first.Concat(Enumerable.Range(16, 704)))
            d.Score(Synthetic.Start + TimeSpan.FromHours(h), y[h]);
        Assert.Equal(24, d.SeasonalPeriod);
    }

    [Fact]
    public void DetectorsWrittenInEarlierFormatsAreStillReadAndScoreAsBefore()
    {
        // Data/detector-format2.bin is the detector below (an hourly series scored to point 1,200) as format 2 wrote it
        // (bb6789c): the history in single precision, the calibrators' counts divided by their weight. Format 1 is the same
        // without the two longs at the end that refine the step. Known answer: both are read; on a regular series format
        // 1 scores exactly as format 2 (its step taken as measured over the points it has seen); both stay within the
        // rounding format 2 made of the detector kept in memory, and the spike at 1,800 alarms.
        var (y, a) = SpikedSeriesScoredTo1200();
        var v2 = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", "detector-format2.bin"));
        Assert.Equal(2, BitConverter.ToInt32(v2));
        var v1 = v2[..^16];
        BitConverter.GetBytes(1).CopyTo(v1, 0);
        AnomalyDetector b = AnomalyDetector.Deserialize(v1), c = AnomalyDetector.Deserialize(v2);
        Assert.Equal(a.Count, c.Count);
        Assert.Throws<InvalidDataException>(() => AnomalyDetector.Deserialize([.. BitConverter.GetBytes(5), .. a.Serialize()[4..]]));
        double maxDiff = 0;
        for (int t = 1200; t < 2000; t++)
        {
            var ts = Synthetic.Start + TimeSpan.FromHours(t);
            double sb = b.Score(ts, y[t]), sc = c.Score(ts, y[t]);
            Assert.Equal(sc, sb);
            maxDiff = Math.Max(maxDiff, Math.Abs(a.Score(ts, y[t]) - sc));
            if (t == 1800) Assert.True(sb >= Alarm, $"detector read from format 1 or 2 missed the spike: {sb:F3}");
        }
        Assert.True(maxDiff < 0.05, $"max score difference from the detector kept in memory {maxDiff:F4}");
    }

    [Fact]
    public void ADetectorWrittenInFormat3RebuildsTheLevelsMeanMoveFromItsHistory()
    {
        // Format 4 added the short-term level's mean one-step move (the record margin's unit where it exceeds the residual's).
        // Format 3 is format 4 without that last double. Known answer: a detector read from format 3 rebuilds the move from
        // the history it holds, close to the one kept in memory (which saw only the readings scored, the history also holds
        // the filled ones), and scores the rest of the series within a rounding of the detector kept in memory.
        var (y, a) = SpikedSeriesScoredTo1200();
        var v4 = a.Serialize();
        Assert.Equal(4, BitConverter.ToInt32(v4));
        var v3 = v4[..^8];
        BitConverter.GetBytes(3).CopyTo(v3, 0);
        AnomalyDetector b = AnomalyDetector.Deserialize(v3), c = AnomalyDetector.Deserialize(v4);
        Assert.Equal(a.LevelMove, c.LevelMove);
        Assert.InRange(b.LevelMove, 0.8 * a.LevelMove, 1.25 * a.LevelMove);
        double maxDiff = 0;
        for (int t = 1200; t < 2000; t++)
        {
            var ts = Synthetic.Start + TimeSpan.FromHours(t);
            double sa = a.Score(ts, y[t]), sb = b.Score(ts, y[t]), sc = c.Score(ts, y[t]);
            Assert.Equal(sa, sc);
            maxDiff = Math.Max(maxDiff, Math.Abs(sa - sb));
        }
        Assert.True(maxDiff < 0.05, $"max score difference from the detector kept in memory {maxDiff:F4}");
    }

    /// <summary>An hourly seasonal series with a spike at 1,800, and a default detector that has scored its first 1,200 points.</summary>
    private static (double[] Y, AnomalyDetector Detector) SpikedSeriesScoredTo1200()
    {
        var y = Synthetic.Seasonal(2000, seed: 8);
        y[1800] += 40;
        var a = new AnomalyDetector();
        for (int t = 0; t < 1200; t++) a.Score(Synthetic.Start + TimeSpan.FromHours(t), y[t]);
        return (y, a);
    }

    [Fact]
    public void ADetectorReadBackBeforeEveryPointScoresExactlyLikeOneNeverStored()
    {
        // A grain is deactivated when idle (a cost center reporting daily: between nearly all of its points) and its
        // detector is read back from storage. Known answer: written and read back before every point, a detector gives
        // bit for bit the scores of one kept in memory, through trainings, re-trainings, a new calendar period, gaps and
        // alarms, with the contextual member on as well. Values with more digits than single precision holds (cents on
        // hundreds of dollars, hourly readings with decimals) must not be rounded on the way.
        var rng = new Random(12);
        var hourly = Synthetic.Seasonal(3000, seed: 12);
        for (int t = 0; t < hourly.Length; t++) hourly[t] += 0.001 * rng.Next(1000);
        hourly[1500] += 40;
        for (int t = 2200; t < hourly.Length; t++) hourly[t] += 25;
        var hours = Enumerable.Range(0, hourly.Length).Where(t => t % 97 != 5 && (t < 1800 || t > 1830)).ToArray();
        var cases = new List<(string Name, AnomalyDetectorOptions Options, TimeSpan Step, double[] Y, int[] At)>
        {
            ("hourly with gaps", new(), TimeSpan.FromHours(1), hourly, hours),
            ("hourly with gaps, contextual member", new() { Contextual = ContextualMode.PointView }, TimeSpan.FromHours(1), hourly, hours),
        };
        for (int seed = 31; seed <= 40; seed++)
        {
            // the doubled day of SyntheticFamilyTests, which alarms on 9 of these 10 seeds
            var daily = Synthetic.DailySpend(240, seed);
            daily[173] *= 2;
            cases.Add(($"daily spend, seed {seed}", new(), TimeSpan.FromDays(1), daily, Enumerable.Range(0, daily.Length).ToArray()));
        }
        var alarmed = new List<string>();
        foreach (var (name, options, step, y, at) in cases)
        {
            AnomalyDetector kept = new(options) { AlarmScore = Alarm }, stored = new(options) { AlarmScore = Alarm };
            int alarms = 0;
            foreach (int t in at)
            {
                stored = AnomalyDetector.Deserialize(stored.Serialize());
                stored.AlarmScore = Alarm;
                var ts = Synthetic.Start + step * t;
                double a = kept.Score(ts, y[t]), b = stored.Score(ts, y[t]);
                if (a != b) Assert.Fail($"{name}: point {t} scored {a:R} kept in memory, {b:R} read back");
                if (a >= Alarm) alarms++;
            }
            if (alarms > 0) alarmed.Add(name);
            Assert.True(kept.HasModel && kept.SeasonalPeriod > 0, $"{name}: no model or no calendar period was learned");
        }
        // the refractory state is written and read back too: every hourly case alarms, and daily ones
        Assert.Contains("hourly with gaps", alarmed);
        Assert.Contains("hourly with gaps, contextual member", alarmed);
        Assert.Contains(alarmed, n => n.StartsWith("daily"));
    }

    [Fact]
    public void SerializationRoundTripContinuesScoring()
    {
        var (y, a) = SpikedSeriesScoredTo1200();
        var bytes = a.Serialize();
        var b = AnomalyDetector.Deserialize(bytes);
        Assert.True(bytes.Length < 100_000, $"{bytes.Length} bytes");
        Assert.True(a.EstimatedBytes < 100_000, $"{a.EstimatedBytes} bytes");
        Assert.Equal(a.Count, b.Count);
        Assert.Equal(a.SeasonalPeriod, b.SeasonalPeriod);
        for (int t = 1200; t < 2000; t++)
        {
            var ts = Synthetic.Start + TimeSpan.FromHours(t);
            double sa = a.Score(ts, y[t]), sb = b.Score(ts, y[t]);
            Assert.Equal(sa, sb);
            if (t == 1800) Assert.True(sb >= Alarm, $"restored detector missed the spike: {sb:F3}");
        }
    }

    [Fact]
    public void FlatLineAndConstantSeriesDoNotCrashOrAlarm()
    {
        var d = new AnomalyDetector();
        double max = 0;
        for (int t = 0; t < 1500; t++) max = Math.Max(max, d.Score(Synthetic.Start + TimeSpan.FromMinutes(5 * t), 42.0));
        Assert.True(max < Alarm, $"{max:F3}");
        double jump = d.Score(Synthetic.Start + TimeSpan.FromMinutes(5 * 1500), 60.0);
        Assert.True(jump >= Alarm, $"jump after flat line {jump:F3}");
    }

    [Fact]
    public void TrainNowNeedsHistoryAndThenTrains()
    {
        var d = new AnomalyDetector();
        var y = Synthetic.Seasonal(300, seed: 14);
        for (int t = 0; t < 100; t++) d.Score(Synthetic.Start + TimeSpan.FromHours(t), y[t]);
        Assert.False(d.TrainNow());
        Assert.False(d.HasModel);
        for (int t = 100; t < 300; t++) d.Score(Synthetic.Start + TimeSpan.FromHours(t), y[t]);
        Assert.True(d.HasModel); // trained by itself at 256 points
        Assert.True(d.TrainNow());
    }

    /// <summary>Runs each training at once, on the caller's thread: adoption happens at the very next point.</summary>
    private sealed class ImmediateTrainer : IDetectorTrainer
    {
        public int Runs;
        public Task<T> Run<T>(Func<T> training)
        {
            Runs++;
            return Task.FromResult(training());
        }
    }

    [Fact]
    public void ATrainerAdoptingAtTheNextPointScoresExactlyLikeInlineTraining()
    {
        var y = Synthetic.Seasonal(3000, seed: 21);
        y[2200] += 25;
        var trainer = new ImmediateTrainer();
        var inline = Synthetic.Score(new AnomalyDetector(), y);
        var queued = Synthetic.Score(new AnomalyDetector { Trainer = trainer }, y);
        Assert.True(trainer.Runs >= 3, $"only {trainer.Runs} trainings went through the trainer");
        Assert.Equal(inline, queued);
    }

    [Fact]
    public void ATrainingFinishedBeforeTheDetectorIsWrittenIsKept()
    {
        // A daily cost center on the server's default background trainer: a point starts a training, the training ends
        // within milliseconds, and the grain is deactivated (its detector written) long before the next day's point, which
        // is where a detector kept in memory adopts it. Known answer: written and read back before every day, the detector
        // scores bit for bit as one kept in memory (and as inline training, test above). When a finished training was
        // left out of what was written, every day started it again and lost it again: the detector never had a model.
        var y = Synthetic.DailySpend(240, seed: 33);
        y[173] *= 2;
        var trainer = new ImmediateTrainer();
        var kept = new AnomalyDetector { Trainer = trainer, AlarmScore = Alarm };
        var stored = new AnomalyDetector { Trainer = trainer, AlarmScore = Alarm };
        for (int t = 0; t < y.Length; t++)
        {
            stored = AnomalyDetector.Deserialize(stored.Serialize());
            stored.Trainer = trainer;
            stored.AlarmScore = Alarm;
            var ts = Synthetic.Start.AddDays(t);
            double a = kept.Score(ts, y[t]), b = stored.Score(ts, y[t]);
            if (a != b) Assert.Fail($"day {t}: {a:R} kept in memory, {b:R} read back (read back with a model: {stored.HasModel})");
        }
        Assert.True(stored.HasModel, "the detector read back every day has no model");
    }

    /// <summary>Holds every training until the test releases it (a training that takes as long as the test wants).</summary>
    private sealed class HeldTrainer : IDetectorTrainer
    {
        private readonly List<Action> _held = [];
        public Task<T> Run<T>(Func<T> training)
        {
            var done = new TaskCompletionSource<T>();
            _held.Add(() => done.SetResult(training()));
            return done.Task;
        }
        public void Release() { foreach (var run in _held) run(); _held.Clear(); }
    }

    [Fact]
    public void ATrainingThatFinishesLateDoesNotUndoACalendarPeriodFoundMeanwhile()
    {
        // 5-minute daily series. The training at 768 points cannot test the day (three days are 864 points); the early
        // test finds it at 864. When that training is adopted after 864 (a slow background trainer, a large batch), the
        // day it could not test must not be dropped: the detector re-tests on the history it holds at adoption.
        var trainer = new HeldTrainer();
        var d = new AnomalyDetector { Trainer = trainer };
        var y = Synthetic.FlattenedDay(1000, 31, flatFrom: int.MaxValue);
        var dt = TimeSpan.FromMinutes(5);
        for (int t = 0; t < 1000; t++)
        {
            d.Score(Synthetic.Start + dt * t, y[t]);
            if (t == 300 || t == 600) trainer.Release(); // the trainings at 256 and 512 finish in time
            if (t == 900) Assert.Equal(288, d.SeasonalPeriod); // found by the early test; the training at 768 is still held
            if (t == 950) trainer.Release();
        }
        Assert.True(d.HasModel);
        Assert.Equal(288, d.SeasonalPeriod);
    }

    [Fact]
    public void BackgroundTrainingAdoptsAModelWhileScoringGoesOn()
    {
        using var trainer = new BackgroundDetectorTrainer(maxBusyShare: 1.0);
        var d = new AnomalyDetector { Trainer = trainer };
        var y = Synthetic.Seasonal(1500, seed: 22);
        for (int t = 0; t < 1000; t++) d.Score(Synthetic.Start + TimeSpan.FromHours(t), y[t]);
        Assert.True(d.TrainingPending || trainer.Completed > 0, "no training was requested after 1,000 points");
        // The training finishes on the trainer's thread; the detector picks it up at its next point.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (trainer.Completed == 0 && DateTime.UtcNow < deadline) Thread.Sleep(10);
        for (int t = 1000; t < 1400; t++) d.Score(Synthetic.Start + TimeSpan.FromHours(t), y[t]);
        Assert.True(trainer.Completed >= 1, "no training ran on the background trainer");
        Assert.True(d.HasModel, "the background model was not adopted");
        double spike = d.Score(Synthetic.Start + TimeSpan.FromHours(1400), y[1400] + 30);
        Assert.True(spike >= Alarm, $"spike score {spike:F3} with a background-trained model");
    }

    [Fact]
    public void BackgroundTrainerStepsDownWhileTheRestOfTheProcessKeepsTheCoresBusy()
    {
        // A process CPU clock the test controls: while "saturated" the rest of the process uses every core (and the
        // trainer, busy all the time here, adds one more core's worth).
        var gate = new object();
        var saturated = true;
        var cpu = TimeSpan.Zero;
        var last = System.Diagnostics.Stopwatch.GetTimestamp();
        TimeSpan Clock()
        {
            lock (gate)
            {
                var now = System.Diagnostics.Stopwatch.GetTimestamp();
                var wall = System.Diagnostics.Stopwatch.GetElapsedTime(last, now);
                cpu += saturated ? wall * (Environment.ProcessorCount + 1) : wall;
                last = now;
                return cpu;
            }
        }
        using var trainer = new BackgroundDetectorTrainer(maxBusyShare: 1.0, minBusyShare: 0.5, processCpu: Clock, sampleInterval: TimeSpan.FromMilliseconds(20));
        Assert.Equal(1.0, trainer.CurrentBusyShare);

        double ShareAfterWork()
        {
            // Trainings of ~1 ms each for a while: the trainer samples the clock between them.
            var until = DateTime.UtcNow.AddMilliseconds(400);
            while (DateTime.UtcNow < until) trainer.Run(() => { Thread.Sleep(1); return 0; }).Wait();
            return trainer.CurrentBusyShare;
        }

        Assert.Equal(0.5, ShareAfterWork());
        lock (gate) saturated = false;
        Assert.Equal(1.0, ShareAfterWork());
        lock (gate) saturated = true;
        Assert.Equal(0.5, ShareAfterWork());
    }
}
