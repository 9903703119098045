using System.Diagnostics.Metrics;

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
}
