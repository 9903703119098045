namespace AiOps.Intelligence;

/// <summary>Settings of <see cref="AnomalyDetector"/>. The defaults are the ones measured in docs/intelligence.md.</summary>
public sealed record AnomalyDetectorOptions
{
    /// <summary>Points of history kept (ring buffer) for re-training and seasonal look-ups.</summary>
    public int HistoryCapacity { get; init; } = 2048;

    /// <summary>Length of the windows the PCA subspace model is trained on.</summary>
    public int WindowLength { get; init; } = 12;

    /// <summary>
    /// Rank of the PCA subspace. 0: chosen at each training by the broken-stick rule (measured, lower on 10 of 14
    /// corpora; docs/intelligence.md, "The hand-set constants varied").
    /// </summary>
    public int PcaRank { get; init; } = 3;

    /// <summary>Points before the first model training; scoring before that uses robust statistics only.</summary>
    public int MinTrainPoints { get; init; } = 256;

    /// <summary>
    /// On coarse data (a step of 2 hours or more), the first training comes before <see cref="MinTrainPoints"/>: once the
    /// history spans three weeks (the weekly period's calendar test) and holds this many points, the least the models
    /// fit on (the shape model 32 windows of <see cref="WindowLength"/>, the novelty reference more than 32 values).
    /// Then, as on all data until the history holds 4 × <see cref="MinTrainPoints"/>, they are re-trained whenever the
    /// history has doubled, at most <see cref="MinTrainPoints"/> points later (daily data: 64, 128, 256, 512, 768). 0 = off.
    /// </summary>
    public int EarlyTrainPoints { get; init; } = 64;

    /// <summary>Re-train the model (and re-detect seasonality) after this many new points.</summary>
    public int RetrainEvery { get; init; } = 2048;

    /// <summary>Maximum number of windows used per training.</summary>
    public int MaxTrainWindows { get; init; } = 768;

    /// <summary>Half-life (points) of the score calibration histograms.</summary>
    public double CalibrationHalfLife { get; init; } = 3000;

    /// <summary>Force a seasonal period (in points); null = detect from the data.</summary>
    public int? SeasonalPeriod { get; init; }

    /// <summary>Weight of the second-strongest view's surprise added to the strongest (views: the point, seen by the residual and shape components; the seasonal deviation; the level's novelty).</summary>
    public double SecondComponentWeight { get; init; } = 0.5;

    /// <summary>
    /// While the series has no period (before the first training too), run the training's calendar test (1 day,
    /// 1 week) once at the point where a calendar period becomes testable (three of its periods held); a period found is
    /// used at once (the next training re-decides it). On 5-minute data: the day from point 864 instead of 2,816; on hourly
    /// data the day from point 72 and on daily data the week from point 21 instead of 256 (the first training).
    /// </summary>
    public bool EarlyCalendarPeriod { get; init; } = true;

    /// <summary>Minimum autocorrelation at 1 day / 1 week for the series to count as seasonal.</summary>
    public double SeasonalityMinAcf { get; init; } = 0.3;

    /// <summary>How much higher the weekly autocorrelation must be than the daily one to prefer it.</summary>
    public double LongerPeriodMargin { get; init; } = 0.1;

    /// <summary>Share of the recent average surprise added to the current one (sustained anomalies score higher).</summary>
    public double PersistenceWeight { get; init; } = 0.3;

    /// <summary>
    /// Points after an alarm (a score at <see cref="AnomalyDetector.AlarmScore"/> or above) during which the same incident is
    /// not reported again... Also the span over which a peak is forgotten: within it a weaker repeat of the peak counts half.
    /// At most a week of points (the longest calendar period): on daily data 7, not 150.
    /// </summary>
    public int RefractoryPoints { get; init; } = 150;

    /// <summary>
    /// ...unless its surprise exceeds the alarm's by this much (-log10 units). Negative (the default): log10 of the
    /// refractory span in points. The span takes that many more looks at the same incident; a point less probable than
    /// the alarm by that factor is as surprising as the alarm was once the looks are counted (Bonferroni). 150 points:
    /// 2.18; daily data (a span of 7): 0.85. It was 1.5, tuned on nab-dev.
    /// </summary>
    public double RefractoryMargin { get; init; } = -1;

    /// <summary>Points per block of the coarse-scale shape model (windows of block means); 1 = off.</summary>
    public int CoarseAggregation { get; init; } = 1;

    /// <summary>Adaptation rate of the residual scale (running mean absolute residual).</summary>
    public double ResidualScaleAlpha { get; init; } = 0.01;

    /// <summary>
    /// Extra surprise (-log10 units) of a short-term level above (below) every short-term level seen before
    /// in the series' whole history, i.e. a new record. Tuned on nab-dev. Negative: derived, log10((N+1)/(n+1)) for a record
    /// among the N levels scored when the novelty snapshot ranks it among n values (with exchangeable levels a record of N
    /// is a 1-in-(N+1) event); tried with <see cref="RecordMarginNoise"/> 0 and not adopted: four synthetic families fail
    /// (two daily-spend incidents, a spike after a gap, a series resting on its floor; docs/intelligence.md).
    /// </summary>
    public double RecordLevelBoost { get; init; } = 2.0;

    /// <summary>Excess over the old record (in mean absolute residuals) that earns the full record boost; 0: any excess.</summary>
    public double RecordMarginNoise { get; init; } = 2.0;

    /// <summary>
    /// Records count only after this many points of history; on coarse data (see <see cref="EarlyTrainPoints"/>) once the
    /// first training's points are held (daily data: 64).
    /// </summary>
    public int RecordAfterPoints { get; init; } = 2048;

    /// <summary>
    /// The unit of the record margin (<see cref="RecordMarginNoise"/>) is the larger of the mean absolute residual and the
    /// short-term level's own mean one-step move (on by default). Where the seasonal prediction is exact (a strict cycle,
    /// machine-generated telemetry) the residual is next to nothing while the level still moves by the cycle's swing at every
    /// point, and more where readings are missing: every new record level, however small, counted in full and the level
    /// view alarmed on 6-28 % of such series a re-training period (see docs/intelligence.md, "Records on an exact cycle").
    /// No new constant: the move's running mean warms up and forgets as the residual's does.
    /// </summary>
    public bool RecordMarginLevelStep { get; init; } = true;

    /// <summary>Largest gap (in points) that is filled in when timestamps jump; a longer gap in a seasonal series is filled up to the same phase (fewer than one period).</summary>
    public int MaxGapFill { get; init; } = 64;

    /// <summary>
    /// On hourly and coarser data (a step of 43 minutes or more: the calibrators' half-life is then at least 90 days), whether
    /// the point that raises an alarm is learned as it was (true, as before) or as its prediction (false, the default): its
    /// calibrators, history, level and seasonal state then keep the series' normal behaviour, so a repeat of the incident is
    /// as surprising as the first.
    /// </summary>
    public bool LearnSlowAlarmPoints { get; init; }

    /// <summary>
    /// The contextual member (facts = a scalar code of the value; contexts = the previous one and two codes; raw score =
    /// share of the facts the contexts did not predict): off, a member of the point view, or a view of its own.
    /// </summary>
    public ContextualMode Contextual { get; init; } = ContextualMode.Off;

    /// <summary>Context orders of the contextual member: 1 = the previous value's code only; 2 = also the pair of the previous two (mean of both).</summary>
    public int ContextOrders { get; init; } = 2;

    /// <summary>
    /// Range of the contextual member's code: 0 = the minimum and maximum of the history kept; q &gt; 0 = its q and 1 − q
    /// quantiles (one old spike then does not squeeze the bulk of the values into a few codes).
    /// </summary>
    public double ContextRangeQuantile { get; init; } = 0;

    /// <summary>
    /// Count as unpredicted only facts that have been seen before in some context: a value never seen at all (a new
    /// level, a spike) is left to the novelty and residual views, and the member scores only known values in an unknown
    /// context (what only a contextual detector sees).
    /// </summary>
    public bool ContextKnownFactsOnly { get; init; }

    /// <summary>
    /// Add coarse facts (steps of an eighth of the range: one code width is the whole range), predicted by the order-1
    /// context: a point is fully unpredicted only when it is far from everything that followed its context, which gives
    /// the raw score a longer tail than the share of fine facts alone.
    /// </summary>
    public bool ContextCoarseFacts { get; init; }
}

/// <summary>Where the contextual member speaks in the combination (see docs/intelligence.md).</summary>
public enum ContextualMode
{
    Off = 0,
    /// <summary>With the residual and shape components: the stronger of them speaks for the point view.</summary>
    PointView = 1,
    /// <summary>A fourth view beside the point, seasonal and novelty views.</summary>
    OwnView = 2,
    /// <summary>With the level's novelty: the stronger of the two speaks for the novelty view.</summary>
    NoveltyView = 3,
}
