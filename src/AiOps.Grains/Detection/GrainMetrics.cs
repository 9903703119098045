using System.Diagnostics.Metrics;
using AiOps.Intelligence;

namespace AiOps.Grains.Detection;

/// <summary>
/// Instruments recorded inside grains (meter <c>AiOps</c>, exported with the server's own). Created like every other
/// instrument of the platform: from the host's <see cref="IMeterFactory"/> (registered by <c>AddAiOpsGrains</c>), so each
/// host (and each test cluster) has its own meter.
/// </summary>
public sealed class GrainMetrics
{
    public GrainMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create("AiOps");
        PointsScored = meter.CreateCounter<long>("aiops.anomaly.points_scored", "{point}", "Metric points scored by the online anomaly detectors.");
        AnomaliesDetected = meter.CreateCounter<long>("aiops.anomaly.detected", "{anomaly}", "Anomaly episodes opened (score at or above the alarm threshold), by entity kind and reason (point, pattern, level).");
        TimerChecks = meter.CreateCounter<long>("aiops.entity.timer_checks", "{check}",
            "Checks run by entity grains' timers, by timer: digest (every 2 s while telemetry arrives) and write (write-behind, every 15 s); each slows to once a minute while the entity receives nothing.");
        ForecastTraining = meter.CreateHistogram<double>("aiops.forecast.training.duration", "ms", "Time to train and run a spend forecast.");
        var trainer = BackgroundDetectorTrainer.Shared;
        meter.CreateObservableGauge("aiops.anomaly.training.queued", () => trainer.Queued, "{training}",
            "Detector re-trainings waiting for the background trainer.");
        meter.CreateObservableCounter("aiops.anomaly.training.completed", () => trainer.Completed, "{training}",
            "Detector re-trainings run by the background trainer.");
        meter.CreateObservableCounter("aiops.anomaly.training.busy", () => trainer.BusyTime.TotalSeconds, "s",
            "Time the background trainer spent training detectors.");
        meter.CreateObservableGauge("aiops.anomaly.training.share", () => trainer.CurrentBusyShare, "1",
            "Share of one core the background trainer may use now (lower while the rest of the process keeps the cores busy).");
    }

    public Counter<long> PointsScored { get; }

    public Counter<long> AnomaliesDetected { get; }

    public Histogram<double> ForecastTraining { get; }

    public Counter<long> TimerChecks { get; }

    public static readonly KeyValuePair<string, object?> DigestTimer = new("timer", "digest");
    public static readonly KeyValuePair<string, object?> WriteTimer = new("timer", "write");
}
