using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.Grains.Series;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace AiOps.Grains.Entities;

/// <summary>An ML model in production: versions, serving telemetry, value delivered and health.</summary>
[ImplicitStreamSubscription(StreamNames.ModelNamespace)]
[GrainType("model")]
public sealed class ModelGrain(
    [PersistentState(StateNames.Model, StorageNames.Entities)] IPersistentState<EntityState> state,
    IOptions<EntityGrainOptions> options,
    TimeProvider time,
    ILogger<ModelGrain> logger,
    IngestionProgress progress,
    [PersistentState(StateNames.ModelDetectors, StorageNames.Entities)] IPersistentState<Detection.DetectorState> models)
    : EntityGrain(state, options, time, logger, progress, models), IModelGrain
{
    public const double DefaultMaxErrorRate = 0.05;
    private const int MaxVersions = 20;

    protected override EntityKind Kind => EntityKind.Model;

    protected override void OnPoint(TelemetryPoint point, MetricSeries series, bool inOrder)
    {
        var version = point.Attribute(MetricVocabulary.Attributes.Version);
        if (version is null) return;
        var at = DateTime.UnixEpoch.AddMilliseconds(point.TimestampMs);
        var i = State.Versions.FindIndex(v => v.Version == version);
        if (i < 0)
        {
            State.Versions.Add(new ModelVersionInfo(version, at, at));
            if (State.Versions.Count > MaxVersions) State.Versions.RemoveAt(0);
        }
        else if (State.Versions[i].LastSeen < at || State.Versions[i].FirstSeen > at)
        {
            var v = State.Versions[i];
            State.Versions[i] = v with
            {
                FirstSeen = v.FirstSeen < at ? v.FirstSeen : at,
                LastSeen = v.LastSeen > at ? v.LastSeen : at,
            };
        }
        if (point.TimestampMs >= State.CurrentVersionAtMs)
        {
            State.CurrentVersion = version;
            State.CurrentVersionAtMs = point.TimestampMs;
        }
    }

    /// <summary>The training pipeline joins the lineage graph as a training job → model edge.</summary>
    protected override Task OnMetadataChangedAsync(EntityMetadata previous) =>
        previous.TrainingPipelineId == State.Metadata.TrainingPipelineId
            ? Task.CompletedTask
            : GrainFactory.GetGrain<ILineageGraphGrain>(ILineageGraphGrain.DefaultKey).LinkModelAsync(Id, State.Metadata.TrainingPipelineId);

    protected override void EvaluateRules(DateTime now)
    {
        var stats = Stats();
        var maxErrorRate = State.Metadata.MaxErrorRate ?? DefaultMaxErrorRate;
        var errorBreach = stats.ErrorRateMonthToDate > maxErrorRate;
        if (errorBreach != IsFiring(AlertKind.ModelErrorRate))
        {
            SignalEdge(RuleSignal(AlertKind.ModelErrorRate, MetricVocabulary.Errors, errorBreach, now, stats.ErrorRateMonthToDate ?? 0,
                errorBreach ? $"error rate {stats.ErrorRateMonthToDate:P2} is above {maxErrorRate:P2}" : "error rate is within its limit again", maxErrorRate));
        }
        if (State.Metadata.MaxLatencyMs is { } maxLatency)
        {
            var latencyBreach = stats.LatencyMsRecentMean > maxLatency;
            if (latencyBreach != IsFiring(AlertKind.ModelLatency))
            {
                SignalEdge(RuleSignal(AlertKind.ModelLatency, MetricVocabulary.LatencyMs, latencyBreach, now, stats.LatencyMsRecentMean ?? 0,
                    latencyBreach ? $"recent latency {stats.LatencyMsRecentMean:F0} ms is above {maxLatency:F0} ms" : "latency is within its limit again", maxLatency));
            }
        }
    }


    protected override EntitySummary Describe(EntitySummary summary) => summary with { Model = Stats() };

    protected override EntityDigest Digest(EntityDigest digest)
    {
        var stats = Stats();
        return digest with
        {
            PredictionsMonthToDate = stats.PredictionsMonthToDate,
            ValueMonthToDate = stats.ValueMonthToDate,
            Healthy = stats.Healthy,
        };
    }

    private ModelStats Stats()
    {
        var month = CurrentMonth;
        var predictionsMtd = MonthSum(MetricVocabulary.Predictions, month);
        var errorsMtd = MonthSum(MetricVocabulary.Errors, month);
        double? errorRate = predictionsMtd > 0 ? errorsMtd / predictionsMtd : null;
        var latency = Find(MetricVocabulary.LatencyMs);
        var latencyMean = latency?.RawMean(20);

        var reasons = new List<string>();
        var maxErrorRate = State.Metadata.MaxErrorRate ?? DefaultMaxErrorRate;
        if (errorRate > maxErrorRate) reasons.Add($"error rate {errorRate:P1} is above {maxErrorRate:P1}");
        if (State.Metadata.MaxLatencyMs is { } maxLatency && latencyMean > maxLatency)
            reasons.Add($"recent latency {latencyMean:F0} ms is above {maxLatency:F0} ms");
        foreach (var a in State.OpenAnomalies.Where(a => a.Metric is MetricVocabulary.Errors or MetricVocabulary.LatencyMs or MetricVocabulary.Accuracy or MetricVocabulary.Drift))
            reasons.Add($"open anomaly on {a.Metric} since {a.FirstAt:O}");

        return new ModelStats
        {
            CurrentVersion = State.CurrentVersion,
            Versions = State.Versions.ToList(),
            PredictionsTotal = Find(MetricVocabulary.Predictions)?.Total ?? 0,
            PredictionsMonthToDate = predictionsMtd,
            ErrorsTotal = Find(MetricVocabulary.Errors)?.Total ?? 0,
            ErrorsMonthToDate = errorsMtd,
            ErrorRateMonthToDate = errorRate,
            LatencyMsLast = latency?.LastValue,
            LatencyMsRecentMean = latencyMean,
            AccuracyLast = Find(MetricVocabulary.Accuracy)?.LastValue,
            DriftLast = Find(MetricVocabulary.Drift)?.LastValue,
            ValueTotal = Find(MetricVocabulary.Value)?.Total ?? 0,
            ValueMonthToDate = MonthSum(MetricVocabulary.Value, month),
            Healthy = reasons.Count == 0,
            HealthReasons = reasons,
        };
    }
}
