using AiOps.Intelligence.Anomaly;
using AiOps.Intelligence.Internal;

namespace AiOps.Intelligence;

/// <summary>
/// Online, causal anomaly detector for one metric series. Each point is scored once, in order,
/// against a state built only from earlier points, giving a score in [0,1].
/// <para>Not thread-safe: one instance per series, used by one caller at a time (e.g. a non-reentrant grain).</para>
/// </summary>
/// <remarks>
/// Components:
/// <list type="bullet">
/// <item>robust residual screen: the value against a local median and a seasonal (same phase one period ago)
/// prediction, scaled by a winsorised running mean absolute residual;</item>
/// <item>ML model: a PCA subspace (ML.NET RandomizedPca) of mean-removed windows; the absolute reconstruction
/// error measures shape anomalies. Re-trained every <see cref="AnomalyDetectorOptions.RetrainEvery"/> points;</item>
/// <item>calibration: each raw score becomes a surprise (-log10 tail probability) against a forgetting
/// histogram of the series' own past scores; the maximum is mapped to [0,1] and weaker repeats of a recent
/// alarm are damped.</item>
/// </list>
/// </remarks>
public sealed class AnomalyDetector
{
    private const int FormatVersion = 4; // 4: the short-term level's mean move (format 3 and before: rebuilt from the history); 3: read back bit for bit (history in double precision unless single holds it exactly,
                                         // calibrators as held); 2: the step's refinement (first timestamp, steps counted since); 1 and 2 are still read
    private const int LevelWindow = 8;
    private const double ShortLevelRate = 0.2; // the short-term level: EW mean of the last ~5 values

    private readonly AnomalyDetectorOptions _o;
    private readonly double[] _buf;
    private int _head;             // index of the next write
    private long _count;           // values appended (including gap fill)
    private long _scored;          // points scored

    // time
    private long _lastTicks;
    private long _stepTicks;
    private readonly long[] _firstIntervals = new long[9];
    private int _nIntervals;
    private long _t0Ticks;         // the first timestamp
    private long _gridPos;         // the slot (steps from the first timestamp) of the last reading

    // components
    private int _period;
    private double _absResidual = double.NaN; // running mean |residual|
    private readonly TailCalibrator _calResidual;
    private readonly ShapeModel _shapeFine;   // PCA on windows of raw points
    private readonly ShapeModel? _shapeCoarse; // PCA on windows of block means (longer time scale)
    private readonly ContextModel? _context;   // contextual member (facts and contexts); null = off
    private long _sinceTrain;
    private double _peak;          // decaying peak surprise (suppression)
    private double _ewSurprise = double.NaN; // EW mean of the combined surprise (evidence accumulation)
    private int _sinceAlarm = int.MaxValue;  // points since the last alarm (refractory period)
    private double _alarmLevel;              // surprise of the last alarm
    private const double AlarmSurprise = 4.5; // surprise at which the score crosses 0.5
    private double _alarmScore = 0.5;
    private double _refractoryFrom = AlarmSurprise; // surprise of AlarmScore: where a refractory period starts
    private double _shortMean = double.NaN; // fast EW mean of the values
    private double _levelMax, _levelMin;    // record short-term levels
    private double _levelStep = double.NaN; // running mean |one-step move| of the short-term level
    private double _seasonEw = double.NaN;  // EW mean of standardised seasonal residual
    private double _seasonAbs = double.NaN; // running mean |x - x[t-period]|
    private readonly TailCalibrator _calSeason;
    private readonly TailCalibrator _calNovelty;
    private float[]? _sorted;               // sorted snapshot of the history at the last training (value distribution)
    private double _spread;                 // robust spread of that snapshot
    private TimeZoneInfo? _localTime;       // the clock the series follows (null: UTC)
    private long _lagBucket = long.MinValue; // the UTC day, or within a day with an offset change the quarter hour, of the
    private int _lagPeriod, _lagValue;       // last SeasonLag look-up, and its result
    private Task<TrainedModel>? _pending;   // a training running on the Trainer
    private long _pendingSince;             // _sinceTrain when that training took its snapshot

    public AnomalyDetector(AnomalyDetectorOptions? options = null)
    {
        _o = options ?? new AnomalyDetectorOptions();
        if (_o.HistoryCapacity < 64) throw new ArgumentOutOfRangeException(nameof(options), "HistoryCapacity must be >= 64");
        if (_o.WindowLength < 4 || _o.WindowLength > 64) throw new ArgumentOutOfRangeException(nameof(options), "WindowLength must be in [4,64]");
        _buf = new double[_o.HistoryCapacity];
        _calResidual = new TailCalibrator(_o.CalibrationHalfLife);
        _shapeFine = new ShapeModel(_o.WindowLength, 1, _o.CalibrationHalfLife);
        _shapeCoarse = _o.CoarseAggregation > 1 ? new ShapeModel(_o.WindowLength, _o.CoarseAggregation, _o.CalibrationHalfLife) : null;
        _calSeason = new TailCalibrator(_o.CalibrationHalfLife);
        _calNovelty = new TailCalibrator(_o.CalibrationHalfLife);
        _context = _o.Contextual != ContextualMode.Off ? new ContextModel(_o.CalibrationHalfLife, _o.ContextOrders, _o.ContextKnownFactsOnly, _o.ContextCoarseFacts) : null;
    }

    public AnomalyDetectorOptions Options => _o;

    /// <summary>
    /// Where (re-)trainings run. Null (the default): inline, inside <see cref="Score"/> — deterministic, what the
    /// CLI and the benchmarks use. Set: the training runs there on a snapshot of the history while this detector
    /// keeps scoring with its current model, and the new model is adopted at the first point after it is ready.
    /// </summary>
    public IDetectorTrainer? Trainer { get; set; }

    /// <summary>
    /// The score at which whoever reads the scores raises an alarm; default 0.5 (the middle of the score range, where
    /// NAB's best threshold falls: what <c>aiops detect</c> writes). The grains set their alarm threshold (0.8). A point
    /// that reaches it starts the refractory period, so an incident is reported once <em>at that level</em>: with a
    /// refractory period that started at 0.5, an incident that grew gradually past 0.5 and then to 0.8 was damped and
    /// never reached a 0.8 alarm. Not serialised: the consumer sets it after creating or restoring a detector.
    /// </summary>
    public double AlarmScore
    {
        get => _alarmScore;
        set
        {
            if (!(value > 0 && value < 1)) throw new ArgumentOutOfRangeException(nameof(value), value, "AlarmScore must be in (0, 1)");
            _alarmScore = value;
            _refractoryFrom = AlarmSurprise + Math.Log(value / (1 - value)) / 2; // inverse of the logistic in ToScore
        }
    }

    /// <summary>
    /// The time zone whose clock the series follows (an office's traffic, a batch scheduled at 02:00 local time), or null
    /// (the default): the series follows UTC. Across a daylight-saving change the same local time one day (or week) ago
    /// is 23 or 25 hours back: the seasonal prediction and the seasonal view then compare each reading with the reading
    /// at that local time, not the one 24 hours back in UTC. Without it a series that follows local time alarmed at its
    /// first morning after every change (its daily profile moved by an hour in UTC). Only calendar periods (whole days)
    /// are shifted, by the offset change in whole steps: data sampled every 2 hours or more is unchanged. Not serialised:
    /// the consumer sets it after creating or restoring a detector; null costs nothing per point.
    /// </summary>
    public TimeZoneInfo? LocalTime
    {
        get => _localTime;
        set { _localTime = value; _lagBucket = long.MinValue; }
    }

    /// <summary>True while a training runs on the <see cref="Trainer"/>.</summary>
    public bool TrainingPending => _pending is not null;

    private static long s_trainTicks;
    private static long s_trainCount;

    /// <summary>Process-wide diagnostics: number of model trainings so far (all detectors).</summary>
    public static long TrainCount => Interlocked.Read(ref s_trainCount);

    /// <summary>Process-wide diagnostics: time spent in model trainings so far (all detectors).</summary>
    public static TimeSpan TrainTime => TimeSpan.FromSeconds(Interlocked.Read(ref s_trainTicks) / (double)System.Diagnostics.Stopwatch.Frequency);

    /// <summary>Resets the process-wide training diagnostics.</summary>
    public static void ResetDiagnostics()
    {
        Interlocked.Exchange(ref s_trainTicks, 0);
        Interlocked.Exchange(ref s_trainCount, 0);
    }

    /// <summary>Per-component surprise (-log10 tail probability) of the last scored point, for explanations.</summary>
    public ComponentSurprises LastSurprises { get; private set; }

    /// <summary>The view that spoke loudest for the last point scored: what an alarm on it is about (<see cref="AnomalyView"/>).</summary>
    public AnomalyView LastView { get; private set; }

    /// <summary>Number of points scored so far.</summary>
    public long Count => _scored;

    /// <summary>The short-term level's running mean one-step move, the record margin's unit where it exceeds the residual's (tests).</summary>
    internal double LevelMove => _levelStep;

    /// <summary>Timestamp of the newest point scored (UTC), or null before the first.</summary>
    public DateTime? LastTimestampUtc => _lastTicks == 0 ? null : new DateTime(_lastTicks, DateTimeKind.Utc);

    /// <summary>Detected seasonal period in points (0 = none).</summary>
    public int SeasonalPeriod => _period;

    /// <summary>True once the ML subspace model has been trained.</summary>
    public bool HasModel => _shapeFine.Ready;

    /// <summary>Approximate managed memory held by this detector (buffers + model).</summary>
    public int EstimatedBytes =>
        _buf.Length * 8 + 24 + _firstIntervals.Length * 8 + 24
        + _calResidual.EstimatedBytes + _calSeason.EstimatedBytes + _calNovelty.EstimatedBytes
        + _shapeFine.EstimatedBytes + (_shapeCoarse?.EstimatedBytes ?? 0) + (_sorted?.Length ?? 0) * 4 + 24 + 200
        + (_context?.EstimatedBytes ?? 0);

    private int Available => (int)Math.Min(_count, _buf.Length);

    /// <summary>Value k steps back (k=1 is the latest appended value).</summary>
    private double Back(int k)
    {
        // k is at most twice the capacity (a period plus a window); a branch instead of a division per read
        int i = _head - k;
        if (i < 0) i += _buf.Length;
        if (i < 0) i += _buf.Length;
        return _buf[i];
    }

    private void Append(double v)
    {
        _buf[_head] = v;
        _head = (_head + 1) % _buf.Length;
        _count++;
    }

    /// <summary>Scores one point (online, causal) and then learns from it. Returns an anomaly score in [0,1].</summary>
    public double Score(DateTime timestampUtc, double value)
    {
        if (_pending is { IsCompleted: true }) AdoptPending();
        int availBefore = Available;
        long ticks = timestampUtc.Ticks;
        HandleTime(ticks, value);
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            _scored++;
            LastView = AnomalyView.None;
            return 0; // a gap: nothing to score, nothing learned
        }

        int avail = Available;
        Span<double> scratch = stackalloc double[LevelWindow * 2];
        Span<double> lastWin = stackalloc double[LevelWindow];
        int m = Math.Min(LevelWindow, avail);
        for (int k = 1; k <= m; k++) lastWin[k - 1] = Back(k);
        double level = m > 0 ? Robust.Median(lastWin[..m], scratch) : value;

        // ---- component A: robust residual against level and seasonal predictions
        double eLevel = Math.Abs(value - level);
        double e = eLevel;
        double predicted = level; // the closer of the two predictions
        int lag = _localTime is null ? _period : SeasonLag(SlotTicks(0)); // the period, or the points back to the same local time
        if (_period > 0 && avail >= lag + LevelWindow + 1)
        {
            Span<double> thenWin = stackalloc double[LevelWindow];
            for (int k = 1; k <= LevelWindow; k++) thenWin[k - 1] = Back(lag + k);
            double levelThen = Robust.Median(thenWin, scratch);
            double seasonal = Back(lag) + (level - levelThen);
            if (Math.Abs(value - seasonal) < e) predicted = seasonal;
            e = Math.Min(e, Math.Abs(value - seasonal));
        }
        double floor = ResidualFloor(level);
        double zA = ResidualZ(e, _absResidual, floor);
        double sR = avail >= 2 ? _calResidual.Surprise(zA) : 0;

        // short-term level (EW mean of the last ~5 values), used by the novelty component
        double shortNext = NextShortMean(value);

        // ---- component E: novelty of the short-term level within the distribution of past values
        double sE = 0, zE = -1;
        if (_sorted is { Length: > 32 })
        {
            zE = LevelNovelty(shortNext);
            sE = _calNovelty.Surprise(zE);
        }

        // ---- component D: persistent deviation from the seasonal profile (EW mean of the seasonal residual)
        double zD = 0, sD = 0;
        bool hasSeason = false;
        double seasonEwBefore = _seasonEw, sdScaleUsed = 0;
        if (_period > 0 && avail >= lag + 1)
        {
            hasSeason = true;
            double sd = value - Back(lag);
            double sdScale = double.IsNaN(_seasonAbs) ? Math.Max(Math.Abs(sd), floor) : Math.Max(_seasonAbs, floor);
            sdScaleUsed = sdScale;
            _seasonEw = NextSeasonEw(_seasonEw, sd, sdScale);
            zD = Math.Abs(_seasonEw);
            sD = _calSeason.Surprise(zD);
            double clippedSd = Winsor(Math.Abs(sd), _seasonAbs, 4, floor);
            _seasonAbs = double.IsNaN(_seasonAbs) ? Math.Abs(sd) : _seasonAbs + 0.01 * (clippedSd - _seasonAbs);
        }

        // ---- component B: ML subspace models on the windows ending at this point (two time scales)
        double zB = -1, sB = 0, zB2 = -1, sB2 = 0;
        if (_shapeFine.Ready && avail >= _shapeFine.Span)
        {
            zB = _shapeFine.Raw(value, _buf, _head);
            sB = _shapeFine.Calibrator.Surprise(zB);
        }
        if (_shapeCoarse is { Ready: true } && avail >= _shapeCoarse.Span)
        {
            zB2 = _shapeCoarse.Raw(value, _buf, _head);
            sB2 = _shapeCoarse.Calibrator.Surprise(zB2);
        }

        // ---- contextual member: share of the point's facts its recent contexts did not predict
        double zC = -1, sC = 0;
        if (_context is { Ready: true })
        {
            zC = _context.Raw(value);
            sC = _context.Calibrator.Surprise(zC);
        }

        LastSurprises = new ComponentSurprises(sR, Math.Max(sB, sB2), sD, sE, sC);
        // ---- combine. The residual and the shape model both look at the point itself (a spike is a large residual and a badly
        // reconstructed window at once): they are one view, and the stronger of the two speaks for it. The views of
        // different things (the point, the seasonal deviation, the level's novelty) combine as the strongest plus a
        // share of the second: agreement between different views counts more.
        double pointView = Math.Max(sR, Math.Max(sB, sB2));
        if (_o.Contextual == ContextualMode.PointView) pointView = Math.Max(pointView, sC);
        double contextView = _o.Contextual == ContextualMode.OwnView ? sC : 0;
        double noveltyView = _o.Contextual == ContextualMode.NoveltyView ? Math.Max(sE, sC) : sE;
        double top = 0, second = 0;
        var view = AnomalyView.None;
        ReadOnlySpan<double> views = [pointView, sD, noveltyView, contextView];
        for (int k = 0; k < views.Length; k++)
        {
            double c = views[k];
            if (c > top) { second = top; top = c; view = k switch { 1 => AnomalyView.Pattern, 2 => AnomalyView.Level, _ => AnomalyView.Point }; }
            else if (c > second) second = c;
        }
        LastView = view;
        double score = ToScore(top + _o.SecondComponentWeight * second);

        // ---- learn
        // On hourly and coarser data (cost and usage are reported hourly or daily) the point that raises an alarm is learned
        // as its prediction, not as it was: the calibrators' half-life of 3,000 points is then 4 months to 8 years, and a
        // learned incident stayed in their tail that long, so a repeat of it (the same doubled day two months later) was no
        // longer beyond what the series had done (0.09-0.58, none alarmed; 0.93-0.98 now). Its score stands; only what the
        // detector keeps of it changes. On finer data, where a calibrator forgets in days, repeats are often the series' own
        // bursts: learning them is what keeps those quiet (NAB's tweet files), so they are learned as before (see
        // docs/intelligence.md, "A repeat of an incident").
        bool forget = !_o.LearnSlowAlarmPoints && _sinceAlarm == 1 && SlowSeries();
        double learned = value;
        if (forget)
        {
            learned = predicted;
            if (hasSeason) _seasonEw = NextSeasonEw(seasonEwBefore, learned - Back(lag), sdScaleUsed);
            shortNext = NextShortMean(learned);
        }
        if (avail >= 2 && !forget)
        {
            _calResidual.Add(zA);
            if (zB >= 0) _shapeFine.Calibrator.Add(zB);
            if (zB2 >= 0) _shapeCoarse!.Calibrator.Add(zB2);
            if (hasSeason) _calSeason.Add(zD);
            if (zE >= 0) _calNovelty.Add(zE);
            if (zC >= 0) _context!.Calibrator.Add(zC);
        }
        if (!forget) _absResidual = NextResidualScale(_absResidual, e, floor, _scored);
        if (!double.IsNaN(_shortMean)) _levelStep = NextLevelStep(_levelStep, Math.Abs(shortNext - _shortMean), _scored - 1);
        _shortMean = shortNext;
        if (_scored == 0) { _levelMax = shortNext; _levelMin = shortNext; }
        _levelMax = Math.Max(_levelMax, shortNext);
        _levelMin = Math.Min(_levelMin, shortNext);
        Append(learned);
        _context?.Learn(learned);
        _scored++;
        _sinceTrain++;
        // A calendar period is tested once as soon as it can be (three periods held), not only at the next training: on
        // 5-minute data the daily period is testable after 864 points, the training schedule tests it at 2,816; on hourly
        // data after 72, on daily data the week after 21, both before the first training. Only the period changes here
        // (and the residual is replayed with it); the next training re-decides it with everything else.
        if (_o.EarlyCalendarPeriod && _period == 0 && _stepTicks > 0 && _o.SeasonalPeriod is null)
        {
            _period = CalendarPeriodNow(availBefore);
            if (_period > 0) ReseedResidual();
        }
        // Schedule: the first training at MinTrainPoints (64-256 on coarse data, see FirstTrainPoints); until 4 × MinTrainPoints
        // are held, again whenever the history has doubled since the last training, at most MinTrainPoints later (5-minute
        // and hourly data: 256, 512, 768; daily data: 64, 128, 256, 512, 768); then every RetrainEvery.
        bool trained = _shapeFine.Ready;
        int first = trained ? 0 : FirstTrainPoints();
        if ((!trained && _count >= first && _sinceTrain >= first / 2)
            || (trained && _sinceTrain >= _o.RetrainEvery)
            || (trained && _count < 4 * _o.MinTrainPoints && _sinceTrain >= Math.Min(_o.MinTrainPoints, _count - _sinceTrain)))
        {
            if (Trainer is null) Retrain();
            else if (_pending is null) StartTraining(Trainer);
        }
        return score;
    }

    /// <summary>
    /// Re-trains the models now (e.g. from a grain timer) instead of waiting for
    /// <see cref="AnomalyDetectorOptions.RetrainEvery"/> points. Returns false when there is too little history.
    /// </summary>
    public bool TrainNow()
    {
        if (_count < Math.Min(FirstTrainPoints(), _buf.Length)) return false;
        Retrain();
        return true;
    }

    /// <summary>The short-term level (EW mean of the last ~5 values) after <paramref name="v"/>.</summary>
    private double NextShortMean(double v) => NextShortLevel(_shortMean, v);

    /// <summary>The short-term level after <paramref name="v"/>, from <paramref name="level"/> (NaN: none yet, which starts it at the value).</summary>
    private static double NextShortLevel(double level, double v) => double.IsNaN(level) ? v : level + ShortLevelRate * (v - level);

    /// <summary>The EW mean of the standardised seasonal residual after a residual <paramref name="sd"/> in units of <paramref name="scale"/>, from <paramref name="before"/> (NaN: the first, which starts it at 0).</summary>
    private static double NextSeasonEw(double before, double sd, double scale) =>
        double.IsNaN(before) ? 0 : before + 0.1 * (Math.Clamp(sd / scale, -10, 10) - before);

    /// <summary>
    /// Hourly or coarser: a step of at least 90 days over the calibrators' half-life in points (43 minutes at 3,000), where a
    /// learned value stays in a calibrator's tail for months (hourly data: 4 months; daily: 8 years).
    /// </summary>
    private bool SlowSeries() => _stepTicks > 0 && _stepTicks * _o.CalibrationHalfLife >= 90.0 * TimeSpan.TicksPerDay;

    /// <summary>
    /// Points before the first training: <see cref="AnomalyDetectorOptions.MinTrainPoints"/>, or fewer on coarse data,
    /// once the history spans three weeks (three weekly periods, as the calendar test) and holds
    /// <see cref="AnomalyDetectorOptions.EarlyTrainPoints"/>.
    /// </summary>
    private int FirstTrainPoints()
    {
        if (_o.EarlyTrainPoints <= 0 || _stepTicks <= 0) return _o.MinTrainPoints;
        long threeWeeks = (3 * TimeSpan.TicksPerDay * 7 + _stepTicks - 1) / _stepTicks;
        return (int)Math.Min(_o.MinTrainPoints, Math.Max(_o.EarlyTrainPoints, threeWeeks));
    }

    /// <summary>-log10 of the two-sided tail probability of <paramref name="m"/> among the values of the last snapshot.</summary>
    private double LevelNovelty(double m)
    {
        var a = _sorted!;
        int n = a.Length;
        float mf = (float)m;
        int below = LowerBound(a, mf);
        int above = n - UpperBound(a, mf);
        // Values equal to the level count half on each side (mid-rank). Without it, a level resting exactly on the lowest
        // or highest value, held many times (a quantised reading at its floor), was in neither side and so in the
        // tail: some 70 points at the value and the EW level equals it to the last bit; its novelty then jumped to ~5.
        double half = 0.5 * (n - below - above);
        double p = (Math.Min(below + half, above + half) + 0.5) / (n + 1.0);
        if (mf < a[0]) p *= Math.Exp(-(a[0] - m) / _spread);
        else if (mf > a[n - 1]) p *= Math.Exp(-(m - a[n - 1]) / _spread);
        // beyond every short-term level seen in the whole history (a record): extra evidence, growing with the
        // excess over the old record (in iid noise records keep occurring, but only by small margins)
        if (_o.RecordLevelBoost != 0 && RecordsCount())
        {
            double noise = _o.RecordMarginLevelStep && !double.IsNaN(_levelStep) ? Math.Max(_absResidual, _levelStep) : _absResidual; // see RecordMarginLevelStep
            double unit = Math.Max(_o.RecordMarginNoise * noise, 1e-12);
            double excess = m > _levelMax ? (m - _levelMax) / unit : m < _levelMin ? (_levelMin - m) / unit : 0;
            if (excess > 0) p *= Math.Pow(10, -RecordBoost(n) * Math.Min(1.0, excess));
        }
        return -Math.Log10(Math.Max(p, 1e-12));
    }

    /// <summary>
    /// Orders of magnitude a record level adds to the snapshot's tail probability. Derived (a negative option; not the default):
    /// the snapshot ranks the level among its <paramref name="n"/> values, so at its edge the probability is about 1/(n+1);
    /// a level beyond every short-term level of the series' <c>N</c> scored points is, with exchangeable levels, a
    /// 1-in-(N+1) event, so the boost is log10((N+1)/(n+1)): none while the snapshot holds the whole history.
    /// </summary>
    private double RecordBoost(int n) =>
        _o.RecordLevelBoost >= 0 ? _o.RecordLevelBoost : Math.Max(0, Math.Log10((_scored + 1.0) / (n + 1.0)));

    /// <summary>
    /// Whether a record level is extra evidence: once the history holds <see cref="AnomalyDetectorOptions.RecordAfterPoints"/>
    /// (2,048: a week of 5-minute data), or on coarse data once it holds the first training's points (daily data: 64 days),
    /// where 2,048 points are 5.6 years of daily data and a record never counted in a daily spend series' life.
    /// </summary>
    private bool RecordsCount()
    {
        if (_count > _o.RecordAfterPoints) return true;
        int first = FirstTrainPoints();
        return first < _o.MinTrainPoints && _count > first;
    }

    private static int LowerBound(float[] a, float x)
    {
        int lo = 0, hi = a.Length;
        while (lo < hi) { int mid = (lo + hi) >> 1; if (a[mid] < x) lo = mid + 1; else hi = mid; }
        return lo;
    }

    private static int UpperBound(float[] a, float x)
    {
        int lo = 0, hi = a.Length;
        while (lo < hi) { int mid = (lo + hi) >> 1; if (a[mid] <= x) lo = mid + 1; else hi = mid; }
        return lo;
    }

    /// <summary>
    /// The refractory span in points: <see cref="AnomalyDetectorOptions.RefractoryPoints"/>, but at most a week, the
    /// longest calendar period: 150 points are 12.5 hours of 5-minute data and 6.25 days of hourly data, but 150 days of
    /// daily data, where one alarm halved every surprise for five months and a different incident seven weeks later
    /// stayed at 0.01.
    /// </summary>
    private int RefractoryPointsNow()
    {
        // a multiplication on every point, the division only where a week is shorter (steps over 67 minutes at 150 points)
        if (_stepTicks <= 0 || _stepTicks * (long)_o.RefractoryPoints <= TimeSpan.TicksPerDay * 7) return _o.RefractoryPoints;
        return (int)Math.Max(1, TimeSpan.TicksPerDay * 7 / _stepTicks);
    }

    /// <summary>The smallest scale a residual is measured in: a millionth of the level (a constant series has none).</summary>
    private static double ResidualFloor(double level) => 1e-9 + 1e-6 * Math.Abs(level);

    /// <summary>The residual <paramref name="e"/> in units of the scale (itself while there is no scale yet).</summary>
    private static double ResidualZ(double e, double scale, double floor) =>
        e / (double.IsNaN(scale) ? Math.Max(e, floor) : Math.Max(scale, floor));

    /// <summary>
    /// The residual's scale after the residual <paramref name="e"/> of the point with index <paramref name="k"/>: a plain
    /// running mean over the first 50 points, then an EW mean (rate <see cref="AnomalyDetectorOptions.ResidualScaleAlpha"/>)
    /// of the residual clipped at 4 × the scale.
    /// </summary>
    private double NextResidualScale(double scale, double e, double floor, long k)
    {
        if (double.IsNaN(scale)) return e;
        double alpha = k < 50 ? 1.0 / (k + 1) : _o.ResidualScaleAlpha;
        return scale + alpha * (Winsor(e, scale, 4, floor) - scale);
    }

    /// <summary>The running mean of the short-term level's one-step move: a plain mean over its first 50 moves, then forgetting as the residual's scale.</summary>
    private double NextLevelStep(double mean, double move, long k) =>
        double.IsNaN(mean) ? move : mean + (k < 50 ? 1.0 / (k + 1) : _o.ResidualScaleAlpha) * (move - mean);

    /// <summary>Clips x at k*scale once the scale is established (a zero scale must be able to grow).</summary>
    private static double Winsor(double x, double scale, double k, double floor) =>
        double.IsNaN(scale) || scale <= floor ? x : Math.Min(x, k * scale);

    private double ToScore(double instant)
    {
        // evidence accumulation: a sustained anomaly adds a share of its recent average surprise
        _ewSurprise = double.IsNaN(_ewSurprise) ? instant : _ewSurprise + 0.1 * (instant - _ewSurprise);
        double surprise = instant + _o.PersistenceWeight * _ewSurprise;

        // damping of repeats: a weaker repeat of a recent peak counts half. The peak is forgotten (by 4 orders of
        // magnitude) over the refractory span: the span within which a repeat is taken for the same incident.
        double prevPeak = _peak;
        int refractoryPoints = RefractoryPointsNow();
        double decay = 4.0 / Math.Max(1, refractoryPoints);
        _peak = Math.Max(surprise, _peak - decay);
        double s = surprise > prevPeak ? surprise : surprise * 0.5;

        // refractory period after an alarm (a point at AlarmScore or above): the same incident is not reported again
        // unless it gets clearly worse: by default, less probable than the alarm by the span's number of points
        bool refractory = _sinceAlarm < refractoryPoints
            && s <= _alarmLevel + (_o.RefractoryMargin >= 0 ? _o.RefractoryMargin : Math.Log10(refractoryPoints));
        if (refractory) s = Math.Min(s, surprise * 0.5);
        else if (s >= _refractoryFrom) { _sinceAlarm = 0; _alarmLevel = s; }
        if (_sinceAlarm < int.MaxValue) _sinceAlarm++;

        // map the surprise (about -log10 p) to [0,1]: 0.5 at 4.5, 0.8 at ~5.2, 0.9 at ~5.6.
        // The most extreme of N ordinary points reaches about log10(N) (+ the second component's share),
        // so on a few thousand normal points scores mostly stay below 0.5-0.6.
        return 1.0 / (1.0 + Math.Exp(-2.0 * (s - AlarmSurprise)));
    }

    /// <summary>
    /// When the residual gains a seasonal prediction (the period goes from none to one), its scale and calibrator are
    /// replayed over the history held with that prediction: what they would hold had the period been known from the
    /// start. Before, they kept what they learned without it: on daily spend the weekends of the first three weeks were
    /// residuals, and the inflated scale and maximum then damped every later surprise (a day of doubled spend at day 173
    /// scored 0.61-0.80 in 4 of 10 series; 0.70-0.78 in 2 with the replay).
    /// </summary>
    private void ReseedResidual()
    {
        var h = Snapshot();
        Span<double> scratch = stackalloc double[LevelWindow * 2];
        _calResidual.Clear();
        double scale = double.NaN;
        int k = 0;
        for (int i = 1; i < h.Length; i++)
        {
            int m = Math.Min(LevelWindow, i);
            double level = Robust.Median(h.AsSpan(i - m, m), scratch);
            double e = Math.Abs(h[i] - level);
            int p = SeasonLag(SlotTicks(h.Length - 1 - i)); // h[^1] is the newest point held
            if (i >= p + LevelWindow)
            {
                double levelThen = Robust.Median(h.AsSpan(i - p - LevelWindow, LevelWindow), scratch);
                e = Math.Min(e, Math.Abs(h[i] - (h[i - p] + level - levelThen)));
            }
            double floor = ResidualFloor(level);
            _calResidual.Add(ResidualZ(e, scale, floor));
            scale = NextResidualScale(scale, e, floor, k++);
        }
        if (!double.IsNaN(scale)) _absResidual = scale;
    }

    private void HandleTime(long ticks, double value)
    {
        if (_lastTicks == 0)
        {
            _lastTicks = ticks;
            _t0Ticks = ticks;
            return;
        }
        long dt = ticks - _lastTicks;
        if (dt <= 0) return; // duplicate/out-of-order timestamps: score as the next point
        _lastTicks = ticks;
        if (_stepTicks == 0)
        {
            _firstIntervals[_nIntervals++] = dt;
            if (_nIntervals == _firstIntervals.Length)
            {
                _stepTicks = FirstStep(_firstIntervals);
                // the slot of this reading: the first intervals counted in steps one by one (their whole span over a step
                // a few percent off can miscount by one, and the refined step would carry that), then the step refined
                _gridPos = 0;
                foreach (var d in _firstIntervals)
                    _gridPos += Math.Max(1, (long)Math.Round((double)d / _stepTicks, MidpointRounding.AwayFromZero));
                _stepTicks = (ticks - _t0Ticks) / _gridPos;
            }
            return;
        }
        // Every missed step is filled, so that a position in the history is a time: seasonal look-ups, shape windows
        // and the level stay aligned when a series is sampled irregularly. Filled values are learned from but never
        // scored: the seasonal value when a season is known, else the straight line to the new value (a copy of the last
        // value would draw a step at the end of every gap).
        // A reading's slot is its time from the first timestamp in steps, rounded: readings taken on a schedule but stamped
        // when they arrive (early or late by up to a fifth of a step, measured) keep their slots. Counted interval by
        // interval, a late reading followed by an early one added a missed step that was never taken back. A reading in a
        // slot already taken goes to the next one, as before, and the step is refined to the elapsed time over the slots
        // used: the median of the first intervals is off by the jitter of a few readings (a step a few seconds off a
        // divisor of a day gave no calendar period), this by the jitter of one reading over all the slots since, and a
        // step taken too long shrinks. On exact timestamps nothing changes.
        long pos = (long)Math.Round((double)(ticks - _t0Ticks) / _stepTicks, MidpointRounding.AwayFromZero);
        long missing = pos - _gridPos - 1;
        _gridPos = Math.Max(pos, _gridPos + 1);
        _stepTicks = (ticks - _t0Ticks) / _gridPos;
        if (missing <= 0 || _count == 0) return;
        bool seasonal = _period > 0 && Available >= _period;
        int fill = (int)Math.Min(missing, _o.MaxGapFill);
        // A longer outage in a seasonal series is filled up to the same phase (fewer than one period): whole periods
        // left out keep the history in phase with the clock; 64 points for a 2-day outage put every later reading 5 hours
        // off its daily profile for the rest of the history.
        if (seasonal && missing > _o.MaxGapFill) fill = (int)(missing % _period);
        bool line = !seasonal && double.IsFinite(value);
        double last = Back(1);
        for (int i = 0; i < fill; i++)
        {
            double v = seasonal ? Back(FillLag(fill - i)) : line ? last + (value - last) * (i + 1) / (fill + 1) : last;
            Append(v);
            _context?.Learn(v); // filled points are learned from, never scored
        }
    }

    /// <summary>The season's lag for a point filled <paramref name="back"/> slots before the newest reading's (the period when the history is too short for a longer lag).</summary>
    private int FillLag(long back)
    {
        int lag = SeasonLag(SlotTicks(back));
        return lag <= Available ? lag : _period;
    }

    /// <summary>The time of the slot <paramref name="back"/> steps before the newest reading's slot (0: that slot).</summary>
    private long SlotTicks(long back) => _t0Ticks + (_gridPos - back) * _stepTicks;

    /// <summary>
    /// The points back to the same phase one period ago: the period, or with <see cref="LocalTime"/> and a calendar period
    /// (whole days) the points back to the same local time that many days ago, when the zone's offset changed in between
    /// (a daylight-saving change: 23 or 25 hours of points for a day).
    /// </summary>
    private int SeasonLag(long slotTicks)
    {
        int p = _period;
        if (_localTime is null || p == 0 || _stepTicks <= 0) return p;
        long span = p * _stepTicks;
        long days = (span + TimeSpan.TicksPerDay / 2) / TimeSpan.TicksPerDay;
        if (days < 1 || Math.Abs(span - days * TimeSpan.TicksPerDay) * 2 > _stepTicks) return p; // not a calendar period
        long back = days * TimeSpan.TicksPerDay;
        if (slotTicks - back < TimeSpan.TicksPerDay || slotTicks > DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay) return p;
        // Most days no offset changes at either end: one look-up per UTC day. A day with a change is looked up per quarter
        // hour (offsets change on quarter hours; the two ends are whole days apart, so in the same quarter-hour phase).
        long day = slotTicks / TimeSpan.TicksPerDay;
        if (p == _lagPeriod && (day == _lagBucket || -1 - slotTicks / (TimeSpan.TicksPerHour / 4) == _lagBucket)) return _lagValue;
        long dayStart = day * TimeSpan.TicksPerDay, dayEnd = dayStart + TimeSpan.TicksPerDay - 1;
        long nowFrom = Offset(dayStart), nowTo = Offset(dayEnd), thenFrom = Offset(dayStart - back), thenTo = Offset(dayEnd - back);
        long change;
        if (nowFrom == nowTo && thenFrom == thenTo)
        {
            change = nowFrom - thenFrom;
            _lagBucket = day;
        }
        else
        {
            change = Offset(slotTicks) - Offset(slotTicks - back);
            _lagBucket = -1 - slotTicks / (TimeSpan.TicksPerHour / 4); // negative: a quarter hour, not a day
        }
        // clocks moved forward (change > 0): the same local time was fewer hours ago
        int lag = change == 0 ? p : (int)Math.Clamp(p - (long)Math.Round((double)change / _stepTicks), 1, (long)_buf.Length - LevelWindow - 1);
        _lagPeriod = p; _lagValue = lag;
        return lag;
    }

    private long Offset(long utcTicks) => _localTime!.GetUtcOffset(new DateTime(utcTicks, DateTimeKind.Utc)).Ticks;

    /// <summary>
    /// The step from the first intervals: their median, divided by the whole number of lower-quartile intervals it spans.
    /// With missed readings the median can be two steps while the lower quartile is one; with jitter (readings stamped
    /// a little early or late) the two are within a factor 1.5 and the median stands.
    /// </summary>
    private static long FirstStep(long[] intervals)
    {
        var a = (long[])intervals.Clone();
        Array.Sort(a);
        long median = a[a.Length / 2], lower = a[a.Length / 4];
        long k = lower > 0 ? Math.Max(1, (long)Math.Round((double)median / lower, MidpointRounding.AwayFromZero)) : 1;
        return Math.Max(1, median / k);
    }

    private void Retrain()
    {
        _sinceTrain = 0;
        Install(Fit(Snapshot()));
    }

    /// <summary>The calendar periods (1 day, 1 week) in points of <paramref name="stepTicks"/> that <paramref name="avail"/> points can test (three periods held).</summary>
    private static List<int> CalendarCandidates(long stepTicks, int avail)
    {
        var cands = new List<int>(2);
        foreach (var span in s_calendarSpans)
            if (CalendarTestable(span, stepTicks, avail) is int p) cands.Add(p);
        return cands;
    }

    /// <summary>
    /// The period of <paramref name="span"/> in points, if it is a whole number of steps (at least 4) and
    /// <paramref name="avail"/> points hold three of it. Whole to within what the test can tell apart: over the three
    /// periods it compares, the period's fraction of a step may add up to at most half a step (a step measured from
    /// jittered timestamps is a few ticks off; a 7-minute step, 205.7 points a day, is not a calendar step).
    /// </summary>
    private static int? CalendarTestable(TimeSpan span, long stepTicks, int avail)
    {
        if (stepTicks <= 0) return null;
        double q = (double)span.Ticks / stepTicks;
        long p = (long)Math.Round(q);
        return p >= 4 && p * 3 <= avail && Math.Abs(q - p) * 3 <= 0.5 ? (int)p : null;
    }

    private static readonly TimeSpan[] s_calendarSpans = [TimeSpan.FromDays(1), TimeSpan.FromDays(7)];

    /// <summary>
    /// The calendar test of a training, run on the history kept now (no model changes) when a calendar period has just
    /// become testable (the history held fewer than three of its periods before this point); 0 when none holds or no
    /// period has just become testable.
    /// </summary>
    private int CalendarPeriodNow(int availBefore)
    {
        int avail = Available;
        if (avail == availBefore) return 0;
        bool newlyTestable = false; // checked without allocating: this runs at every point until the history is full
        foreach (var span in s_calendarSpans)
            newlyTestable |= CalendarTestable(span, _stepTicks, avail) is not null && CalendarTestable(span, _stepTicks, availBefore) is null;
        if (!newlyTestable) return 0;
        var cands = CalendarCandidates(_stepTicks, avail);
        var hist = System.Buffers.ArrayPool<double>.Shared.Rent(avail);
        try
        {
            for (int i = 0; i < avail; i++) hist[i] = Back(avail - i);
            return Seasonality.Detect(hist.AsSpan(0, avail), cands, 4, _o.SeasonalityMinAcf, int.MaxValue, _o.LongerPeriodMargin, requireCycle: true, isolatedOutliers: true);
        }
        finally { System.Buffers.ArrayPool<double>.Shared.Return(hist); }
    }

    private double[] Snapshot()
    {
        int avail = Available;
        var hist = new double[avail];
        for (int i = 0; i < avail; i++) hist[i] = Back(avail - i);
        return hist;
    }

    private void StartTraining(IDetectorTrainer trainer)
    {
        var hist = Snapshot();
        _pendingSince = _sinceTrain;
        _pending = trainer.Run(() => Fit(hist));
    }

    private void AdoptPending()
    {
        var pending = _pending!;
        _pending = null;
        // Points scored since the snapshot count towards the next training.
        _sinceTrain = Math.Max(0, _sinceTrain - _pendingSince);
        if (pending.IsCompletedSuccessfully) Install(pending.Result);
    }

    /// <summary>Everything a training produces, computed from a snapshot of the history without touching the live state.</summary>
    private sealed record TrainedModel(int Period, float[] Sorted, double Spread, ShapeFit? Fine, ShapeFit? Coarse);

    private TrainedModel Fit(double[] hist)
    {
        // Reads only immutable settings and values captured now; safe on another thread.
        int avail = hist.Length;
        long stepTicks = _stepTicks;
        double absResidual = _absResidual;
        int period;
        // seasonality: calendar candidates when the step is known, else the generic ACF search
        if (_o.SeasonalPeriod is int forced) period = forced;
        else
        {
            var cands = CalendarCandidates(stepTicks, avail);
            period = cands.Count > 0
                ? Seasonality.Detect(hist, cands, 4, _o.SeasonalityMinAcf, int.MaxValue, _o.LongerPeriodMargin, requireCycle: true, isolatedOutliers: true)
                : Seasonality.Detect(hist, null, 4, 0.5, Math.Min(avail / 3, 1000), isolatedOutliers: true);
        }

        var snap = new float[avail];
        for (int i = 0; i < avail; i++) snap[i] = (float)hist[i];
        Array.Sort(snap);
        double iqr = snap[(int)(0.9 * (avail - 1))] - snap[(int)(0.1 * (avail - 1))];
        double spread = Math.Max(iqr * 0.25, Math.Max(absResidual, 1e-9 + 1e-6 * Math.Abs(snap[avail / 2])));

        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var fine = _shapeFine.Fit(hist, _o.PcaRank, _o.MaxTrainWindows);
        if (fine is not null) Interlocked.Increment(ref s_trainCount);
        var coarse = _shapeCoarse?.Fit(hist, _o.PcaRank, _o.MaxTrainWindows);
        if (coarse is not null) Interlocked.Increment(ref s_trainCount);
        Interlocked.Add(ref s_trainTicks, System.Diagnostics.Stopwatch.GetTimestamp() - t0);
        return new TrainedModel(period, snap, spread, fine, coarse);
    }

    private void Install(TrainedModel model)
    {
        int periodBefore = _period;
        _period = model.Period;
        // A training run in the background decided on the history of its snapshot. If a calendar period has become
        // testable since (and the early test may have found it meanwhile), test it on the history held now, so that the
        // result does not depend on how long the training took.
        if (_period == 0 && _o.EarlyCalendarPeriod && _stepTicks > 0 && _o.SeasonalPeriod is null)
            _period = CalendarPeriodNow(model.Sorted.Length);
        if (_period > 0 && periodBefore == 0) ReseedResidual();
        _sorted = model.Sorted;
        _spread = model.Spread;
        if (model.Fine is not null) _shapeFine.Install(model.Fine);
        if (model.Coarse is not null) _shapeCoarse!.Install(model.Coarse);
        if (_context is not null && model.Sorted.Length > 0)
        {
            // new range: the codes change meaning, so the contexts are re-learned from the history kept now
            // (on this thread: the points scored while an asynchronous training ran are included)
            var hist = Snapshot();
            var sorted = model.Sorted;
            int qi = (int)Math.Clamp(_o.ContextRangeQuantile * (sorted.Length - 1), 0, (sorted.Length - 1) / 2);
            _context.Rebuild(sorted[qi], sorted[sorted.Length - 1 - qi], hist, seed: _context.Calibrator.EffectiveCount <= 0);
        }
    }

    /// <summary>
    /// Serialises buffers, calibration and model to a compact byte array. A training that has finished on the
    /// <see cref="Trainer"/> is adopted first, as the next point would: a detector written between its points (a grain
    /// collected between hourly or daily points) would otherwise lose every model its trainer fitted. A training still running is
    /// not waited for; the detector read back starts it again at its next point.
    /// </summary>
    public byte[] Serialize()
    {
        if (_pending is { IsCompleted: true }) AdoptPending();
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write(FormatVersion);
            // options (JSON, so that new options do not break stored detectors)
            w.Write(System.Text.Json.JsonSerializer.Serialize(_o));
            // state
            int avail = Available;
            w.Write(avail);
            // oldest first; in single precision when that holds every value exactly (counts, whole amounts), else as held
            bool single = true;
            for (int k = avail; k >= 1 && single; k--) { double v = Back(k); single = double.IsNaN(v) || (float)v == v; }
            w.Write(single);
            if (single) for (int k = avail; k >= 1; k--) w.Write((float)Back(k));
            else for (int k = avail; k >= 1; k--) w.Write(Back(k));
            w.Write(_count); w.Write(_scored); w.Write(_lastTicks); w.Write(_stepTicks); w.Write(_nIntervals);
            for (int i = 0; i < _nIntervals; i++) w.Write(_firstIntervals[i]);
            w.Write(_period); w.Write(_absResidual); w.Write(_sinceTrain);
            w.Write(_peak); w.Write(_ewSurprise); w.Write(_sinceAlarm); w.Write(_alarmLevel); w.Write(_shortMean); w.Write(_levelMax); w.Write(_levelMin); w.Write(_seasonEw); w.Write(_seasonAbs);
            _calResidual.Write(w); _calSeason.Write(w); _calNovelty.Write(w);
            _shapeFine.Write(w);
            _shapeCoarse?.Write(w);
            _context?.Write(w);
            w.Write(_sorted?.Length ?? 0);
            if (_sorted is not null) foreach (var f in _sorted) w.Write(f);
            w.Write(_spread);
            w.Write(_t0Ticks); w.Write(_gridPos);
            w.Write(_levelStep);
        }
        return ms.ToArray();
    }

    /// <summary>The level's mean one-step move, from the short-term level run over the history held (a detector read from format 3 or before).</summary>
    private void RebuildLevelStep()
    {
        double level = double.NaN, move = double.NaN;
        long k = 0;
        for (int back = Available; back >= 1; back--)
        {
            double v = Back(back);
            if (double.IsNaN(v)) continue;
            double next = NextShortLevel(level, v);
            if (!double.IsNaN(level)) move = NextLevelStep(move, Math.Abs(next - level), k++);
            level = next;
        }
        _levelStep = move;
    }

    /// <summary>Restores a detector written by <see cref="Serialize"/>.</summary>
    public static AnomalyDetector Deserialize(byte[] data)
    {
        using var r = new BinaryReader(new MemoryStream(data));
        int version = r.ReadInt32();
        if (version is < 1 or > FormatVersion) throw new InvalidDataException($"unknown detector format {version}");
        var o = System.Text.Json.JsonSerializer.Deserialize<AnomalyDetectorOptions>(r.ReadString()) ?? new AnomalyDetectorOptions();
        var d = new AnomalyDetector(o);
        int avail = r.ReadInt32();
        bool single = version < 3 || r.ReadBoolean();
        for (int i = 0; i < avail; i++) d.Append(single ? r.ReadSingle() : r.ReadDouble());
        d._count = r.ReadInt64(); d._scored = r.ReadInt64(); d._lastTicks = r.ReadInt64(); d._stepTicks = r.ReadInt64();
        d._nIntervals = r.ReadInt32();
        for (int i = 0; i < d._nIntervals; i++) d._firstIntervals[i] = r.ReadInt64();
        d._period = r.ReadInt32(); d._absResidual = r.ReadDouble(); 
        d._sinceTrain = r.ReadInt64(); d._peak = r.ReadDouble(); d._ewSurprise = r.ReadDouble(); d._sinceAlarm = r.ReadInt32();
        d._alarmLevel = r.ReadDouble(); d._shortMean = r.ReadDouble(); d._levelMax = r.ReadDouble(); d._levelMin = r.ReadDouble();
        d._seasonEw = r.ReadDouble(); d._seasonAbs = r.ReadDouble();
        bool normalised = version < 3;
        d._calResidual.Read(r, normalised); d._calSeason.Read(r, normalised); d._calNovelty.Read(r, normalised);
        d._shapeFine.Read(r, normalised);
        d._shapeCoarse?.Read(r, normalised);
        d._context?.Read(r, normalised);
        int ns = r.ReadInt32();
        if (ns > 0)
        {
            d._sorted = new float[ns];
            for (int i = 0; i < ns; i++) d._sorted[i] = r.ReadSingle();
        }
        d._spread = r.ReadDouble();
        if (version >= 2) { d._t0Ticks = r.ReadInt64(); d._gridPos = r.ReadInt64(); }
        else if (d._stepTicks > 0)
        {
            // format 1 did not count steps: its step is taken as measured over the points it has seen
            d._gridPos = Math.Max(1, d._count);
            d._t0Ticks = d._lastTicks - d._stepTicks * d._gridPos;
        }
        else
        {
            d._t0Ticks = d._lastTicks;
            for (int i = 0; i < d._nIntervals; i++) d._t0Ticks -= d._firstIntervals[i];
        }
        // format 3 and before did not keep the level's mean move: it is rebuilt from the history held
        if (version >= 4) d._levelStep = r.ReadDouble();
        else d.RebuildLevelStep();
        return d;
    }
}

/// <summary>Surprise (-log10 tail probability) of each detector component for one point.</summary>
public readonly record struct ComponentSurprises(double Residual, double Shape, double Seasonal, double Novelty, double Context = 0);
