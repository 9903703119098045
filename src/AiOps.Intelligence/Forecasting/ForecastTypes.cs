namespace AiOps.Intelligence;

/// <summary>Regression trainer used by the <see cref="Forecaster"/>.</summary>
public enum ForecastTrainer
{
    LightGbm,
    FastTree,
}

/// <summary>Settings of <see cref="Forecaster"/>.</summary>
public sealed record ForecastOptions
{
    /// <summary>Seasonal period in steps; null = detect (calendar candidates 1 day / 1 week for the given step, else ACF).</summary>
    public int? SeasonalPeriod { get; init; }

    public ForecastTrainer Trainer { get; init; } = ForecastTrainer.LightGbm;

    public int NumberOfTrees { get; init; } = 60;
    public int NumberOfLeaves { get; init; } = 16;
    public double LearningRate { get; init; } = 0.15;
    public int MinExamplesPerLeaf { get; init; } = 10;

    /// <summary>LightGbm histogram bins per feature.</summary>
    public int MaxBinsPerFeature { get; init; } = 63;

    /// <summary>Use at most this many most recent points for training (older history is ignored).</summary>
    public int MaxHistory { get; init; } = 1008;

    /// <summary>Steps forecast from each backtest origin (intervals beyond it grow with sqrt of the horizon).</summary>
    public int BacktestHorizon { get; init; } = 48;

    /// <summary>Number of backtest origins used for model choice and interval calibration.</summary>
    public int BacktestOrigins { get; init; } = 12;

    /// <summary>Clamp forecasts and bounds at zero when the history has no negative value (spend, counts).</summary>
    public bool NonNegative { get; init; } = true;

    /// <summary>Allow the seasonal-naive / blend candidates to be chosen when they backtest better.</summary>
    public bool SelectByBacktest { get; init; } = true;

    /// <summary>
    /// Train a second model on all data after the backtest (slower, uses the latest points for fitting too).
    /// When false the backtest model, trained on all but the held-out tail, also makes the final forecast
    /// (from the full history).
    /// </summary>
    public bool RefitAfterBacktest { get; init; } = true;

    public int Seed { get; init; } = 7;
}

/// <summary>One forecast step with 80% and 95% prediction intervals.</summary>
public sealed record ForecastPoint(DateTime TimestampUtc, double Mean, double Lo80, double Hi80, double Lo95, double Hi95);

/// <summary>A multi-step forecast.</summary>
/// <param name="Points">One point per step after the last observation.</param>
/// <param name="Method">Model actually used, e.g. "lightgbm-level-seasonal-24" or "seasonal-naive-168".</param>
/// <param name="SeasonalPeriod">Detected/used seasonal period (0 = none).</param>
/// <param name="BacktestMae">Mean absolute error of the chosen method on the backtest (NaN when too short to backtest).</param>
/// <param name="TrainingMilliseconds">Wall time spent training and backtesting.</param>
public sealed record Forecast(IReadOnlyList<ForecastPoint> Points, string Method, int SeasonalPeriod, double BacktestMae, double TrainingMilliseconds);
