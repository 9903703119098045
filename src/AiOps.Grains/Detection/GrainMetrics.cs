using System.Diagnostics.Metrics;
using AiOps.Intelligence;

namespace AiOps.Grains.Detection;

/// <summary>Instruments recorded inside grains (meter <c>AiOps</c>, exported with the server's own).</summary>
public static class GrainMetrics
{
    private static readonly Meter Meter = new("AiOps");

    public static readonly Counter<long> PointsScored =
        Meter.CreateCounter<long>("aiops.anomaly.points_scored", "{point}", "Metric points scored by the online anomaly detectors.");

    public static readonly Counter<long> AnomaliesDetected =
        Meter.CreateCounter<long>("aiops.anomaly.detected", "{anomaly}", "Anomaly episodes opened (score at or above the alarm threshold), by entity kind.");

    public static readonly Histogram<double> ForecastTraining =
        Meter.CreateHistogram<double>("aiops.forecast.training.duration", "ms", "Time to train and run a spend forecast.");

    public static readonly ObservableGauge<int> DetectorTrainingQueue =
        Meter.CreateObservableGauge("aiops.anomaly.training.queued", () => BackgroundDetectorTrainer.Shared.Queued, "{training}",
            "Detector re-trainings waiting for the background trainer.");

    public static readonly ObservableCounter<long> DetectorTrainings =
        Meter.CreateObservableCounter("aiops.anomaly.training.completed", () => BackgroundDetectorTrainer.Shared.Completed, "{training}",
            "Detector re-trainings run by the background trainer.");

    public static readonly ObservableCounter<double> DetectorTrainingTime =
        Meter.CreateObservableCounter("aiops.anomaly.training.busy", () => BackgroundDetectorTrainer.Shared.BusyTime.TotalSeconds, "s",
            "Time the background trainer spent training detectors.");

    public static readonly ObservableGauge<double> DetectorTrainingShare =
        Meter.CreateObservableGauge("aiops.anomaly.training.share", () => BackgroundDetectorTrainer.Shared.CurrentBusyShare, "1",
            "Share of one core the background trainer may use now (lower while the rest of the process keeps the cores busy).");
}
