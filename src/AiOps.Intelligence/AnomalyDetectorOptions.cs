namespace AiOps.Intelligence;

/// <summary>Settings of <see cref="AnomalyDetector"/>. The defaults are the ones measured in docs/intelligence.md.</summary>
public sealed record AnomalyDetectorOptions
{
    /// <summary>Points of history kept (ring buffer) for re-training and seasonal look-ups.</summary>
    public int HistoryCapacity { get; init; } = 2048;

    /// <summary>Length of the windows the PCA subspace model is trained on.</summary>
    public int WindowLength { get; init; } = 12;

    /// <summary>Rank of the PCA subspace.</summary>
    public int PcaRank { get; init; } = 3;

    /// <summary>Points before the first model training; scoring before that uses robust statistics only.</summary>
    public int MinTrainPoints { get; init; } = 256;

    /// <summary>Re-train the model (and re-detect seasonality) after this many new points.</summary>
    public int RetrainEvery { get; init; } = 2048;

    /// <summary>Maximum number of windows used per training.</summary>
    public int MaxTrainWindows { get; init; } = 768;

    /// <summary>Half-life (points) of the score calibration histograms.</summary>
    public double CalibrationHalfLife { get; init; } = 3000;


    /// <summary>Force a seasonal period (in points); null = detect from the data.</summary>
    public int? SeasonalPeriod { get; init; }


    /// <summary>Minimum autocorrelation at 1 day / 1 week for the series to count as seasonal.</summary>
    public double SeasonalityMinAcf { get; init; } = 0.3;

    /// <summary>How much higher the weekly autocorrelation must be than the daily one to prefer it.</summary>
    public double LongerPeriodMargin { get; init; } = 0.1;




    /// <summary>Points per block of the coarse-scale shape model (windows of block means); 1 = off.</summary>
    public int CoarseAggregation { get; init; } = 1;

    /// <summary>Adaptation rate of the residual scale (running mean absolute residual).</summary>
    public double ResidualScaleAlpha { get; init; } = 0.01;




    /// <summary>
    /// Points over which point surprises are averaged for the sustained-evidence test (anomaly likelihood), and the
    /// "recent" time scale of the short-term level, the local median and the seasonal-deviation mean.
    /// </summary>
    public int EvidenceWindow { get; init; } = 10;

    /// <summary>Report an incident once: after an alarm, weaker repeats score half until the evidence is ordinary again.</summary>
    public bool IncidentGrouping { get; init; } = true;

    /// <summary>Surprise (-log10 tail probability) that maps to the alarm score 0.8 and opens an incident.</summary>
    public double AlarmSurprise { get; init; } = 5.0;







    /// <summary>Calibrators extrapolate beyond the 98% quantile with a fitted Pareto tail (Hill estimator).</summary>
    public bool ParetoTail { get; init; }

    /// <summary>Combine members by the calibrated sum of their surprises (Fisher's statistic) instead of the Bonferroni max.</summary>
    public bool CombineSum { get; init; }

    /// <summary>Inside an incident a point counts in full only when its surprise exceeds the peak by this much.</summary>
    public double IncidentMargin { get; init; } = 1;

    /// <summary>Largest gap (in points) that is filled in when timestamps jump.</summary>
    public int MaxGapFill { get; init; } = 64;
}
