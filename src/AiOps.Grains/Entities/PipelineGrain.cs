using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.Grains.Series;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace AiOps.Grains.Entities;

/// <summary>A data pipeline: runs, failures, durations, rows and freshness.</summary>
[ImplicitStreamSubscription(StreamNames.PipelineNamespace)]
[GrainType("pipeline")]
public sealed class PipelineGrain(
    [PersistentState(StateNames.Pipeline, StorageNames.Entities)] IPersistentState<EntityState> state,
    IOptions<EntityGrainOptions> options,
    TimeProvider time,
    ILogger<PipelineGrain> logger,
    IngestionProgress progress,
    [PersistentState(StateNames.PipelineDetectors, StorageNames.Entities)] IPersistentState<Detection.DetectorState> models)
    : EntityGrain(state, options, time, logger, progress, models), IPipelineGrain
{
    protected override EntityKind Kind => EntityKind.Pipeline;

    private bool? _failing;

    /// <summary>Open runs remembered per pipeline for their duration; beyond it the oldest start is forgotten.</summary>
    public const int MaxOpenRuns = 1000;

    protected override void OnPoint(TelemetryPoint point, MetricSeries series, bool inOrder)
    {
        var at = DateTime.UnixEpoch.AddMilliseconds(point.TimestampMs);
        TrackRun(point);
        if (point.Metric == MetricVocabulary.RunFailure && point.Value > 0)
        {
            _failing = true;
            Signal(RuleSignal(AlertKind.PipelineFailure, MetricVocabulary.RunFailure, true, at, point.Value, $"pipeline run failed ({point.Value:G} failure(s))"));
        }
        else if (point.Metric == MetricVocabulary.RunSuccess && inOrder && _failing != false)
        {
            _failing = false;
            Signal(RuleSignal(AlertKind.PipelineFailure, MetricVocabulary.RunFailure, false, at, 0, "pipeline ran successfully again"));
        }
    }

    /// <summary>
    /// Run bookkeeping keyed by the <c>run_id</c> attribute: a <c>run.started</c> remembers its time; the run's
    /// <c>run.success</c> or <c>run.failure</c> then adds <c>run.duration_seconds</c> (end − start) and forgets it;
    /// <c>run.aborted</c> forgets it. A failure's <c>error</c> attribute becomes the pipeline's last error.
    /// </summary>
    private void TrackRun(TelemetryPoint point)
    {
        var metric = point.Metric;
        if (metric == MetricVocabulary.RunFailure && point.Attribute(MetricVocabulary.Attributes.Error) is { } error
            && (State.LastErrorAtMs is null || point.TimestampMs >= State.LastErrorAtMs))
        {
            State.LastError = error;
            State.LastErrorAtMs = point.TimestampMs;
            State.LastErrorRunId = point.Attribute(MetricVocabulary.Attributes.RunId);
        }
        if (metric is not (MetricVocabulary.RunStarted or MetricVocabulary.RunSuccess or MetricVocabulary.RunFailure or MetricVocabulary.RunAborted)) return;
        if (point.Attribute(MetricVocabulary.Attributes.RunId) is not { } runId) return;
        if (metric == MetricVocabulary.RunStarted)
        {
            // The end may have come first (events are not always delivered in order).
            if (State.RunEnds is not null && State.RunEnds.Remove(runId, out var endMs))
            {
                if (endMs >= point.TimestampMs) AddDerivedPoint(MetricVocabulary.RunDurationSeconds, endMs, (endMs - point.TimestampMs) / 1000.0);
                return;
            }
            Remember(State.RunStarts ??= new Dictionary<string, long>(StringComparer.Ordinal), runId, point.TimestampMs);
            return;
        }
        if (State.RunStarts is null || !State.RunStarts.Remove(runId, out var startMs))
        {
            if (metric != MetricVocabulary.RunAborted)
                Remember(State.RunEnds ??= new Dictionary<string, long>(StringComparer.Ordinal), runId, point.TimestampMs);
            return;
        }
        if (metric != MetricVocabulary.RunAborted && point.TimestampMs >= startMs)
            AddDerivedPoint(MetricVocabulary.RunDurationSeconds, point.TimestampMs, (point.TimestampMs - startMs) / 1000.0);
    }

    private static void Remember(Dictionary<string, long> runs, string runId, long timestampMs)
    {
        if (runs.Count >= MaxOpenRuns && !runs.ContainsKey(runId)) runs.Remove(runs.MinBy(kv => kv.Value).Key);
        runs[runId] = timestampMs;
    }

    protected override void EvaluateRules(DateTime now)
    {
        var stats = Stats();
        if (stats.Fresh is not { } fresh)
        {
            if (IsFiring(AlertKind.FreshnessBreach))
                SignalEdge(RuleSignal(AlertKind.FreshnessBreach, MetricVocabulary.RunSuccess, false, now, 0, "freshness SLA removed"));
            return;
        }
        if (!fresh)
        {
            if (IsFiring(AlertKind.FreshnessBreach)) return;
            var summary = stats.SecondsSinceLastSuccess is { } since
                ? $"no successful run for {since:F0} s (SLA {stats.FreshnessSlaSeconds:F0} s)"
                : $"no successful run since the freshness SLA of {stats.FreshnessSlaSeconds:F0} s was set";
            SignalEdge(RuleSignal(AlertKind.FreshnessBreach, MetricVocabulary.RunSuccess, true, now, stats.SecondsSinceLastSuccess ?? 0, summary, stats.FreshnessSlaSeconds));
        }
        else
        {
            SignalEdge(RuleSignal(AlertKind.FreshnessBreach, MetricVocabulary.RunSuccess, false, now, stats.SecondsSinceLastSuccess ?? 0, "data is fresh again", stats.FreshnessSlaSeconds));
        }
    }


    protected override EntitySummary Describe(EntitySummary summary) => summary with { Pipeline = Stats() };

    /// <summary>The moment the data goes stale if no successful run comes: freshness is checked then, active or not.</summary>
    protected override DateTime? NextRuleDeadline()
    {
        var stats = Stats();
        if (stats.Fresh != true || stats.FreshnessSlaSeconds is not { } sla) return null;
        var from = stats.LastSuccessAt ?? ToDate(State.SlaSinceMs);
        return from?.AddSeconds(sla + 1);
    }

    protected override EntityDigest Digest(EntityDigest digest)
    {
        var stats = Stats();
        return digest with
        {
            RunsMonthToDate = stats.RunsMonthToDate,
            FailuresMonthToDate = stats.FailuresMonthToDate,
            Fresh = stats.Fresh,
        };
    }

    private PipelineStats Stats()
    {
        var month = CurrentMonth;
        var success = Find(MetricVocabulary.RunSuccess);
        var failure = Find(MetricVocabulary.RunFailure);
        var duration = Find(MetricVocabulary.RunDurationSeconds);
        var successes = (long)(success?.Total ?? 0);
        var failures = (long)(failure?.Total ?? 0);
        var successesMtd = (long)MonthSum(MetricVocabulary.RunSuccess, month);
        var failuresMtd = (long)MonthSum(MetricVocabulary.RunFailure, month);
        var runsMtd = successesMtd + failuresMtd;

        long? lastSuccess = success?.LastTimestampMs;
        long? lastFailure = failure?.LastTimestampMs;
        long? lastRun = (lastSuccess, lastFailure) switch
        {
            (null, null) => null,
            (null, var f) => f,
            (var s, null) => s,
            (var s, var f) => Math.Max(s!.Value, f!.Value),
        };

        var sla = State.Metadata.FreshnessSlaSeconds ?? InferredSlaSeconds(success);
        var now = Time.GetUtcNow().ToUnixTimeMilliseconds();
        double? sinceSuccess = lastSuccess is null ? null : Math.Max(0, (now - lastSuccess.Value) / 1000.0);
        // Never succeeded: fresh until the SLA has passed since it was set (not stale from the moment it is registered).
        bool? fresh = sla is null ? null
            : sinceSuccess is { } elapsed ? elapsed <= sla
            : State.SlaSinceMs is { } setAt ? (now - setAt) / 1000.0 <= sla
            : false;

        return new PipelineStats
        {
            RunsTotal = successes + failures,
            SuccessesTotal = successes,
            FailuresTotal = failures,
            RunsMonthToDate = runsMtd,
            FailuresMonthToDate = failuresMtd,
            FailureRateMonthToDate = runsMtd == 0 ? null : (double)failuresMtd / runsMtd,
            LastRunAt = ToDate(lastRun),
            LastSuccessAt = ToDate(lastSuccess),
            LastFailureAt = ToDate(lastFailure),
            LastDurationSeconds = duration?.LastValue,
            MeanDurationSeconds = duration?.RawMean(20),
            RowsInTotal = Find(MetricVocabulary.RowsIn)?.Total ?? 0,
            RowsOutTotal = Find(MetricVocabulary.RowsOut)?.Total ?? 0,
            FreshnessSlaSeconds = sla,
            SecondsSinceLastSuccess = sinceSuccess,
            Fresh = fresh,
            DataQualityFailuresTotal = Find(MetricVocabulary.DataQualityFailures)?.Total ?? 0,
            LastError = State.LastError,
            LastErrorRunId = State.LastErrorRunId,
            StartedTotal = Find(MetricVocabulary.RunStarted)?.Total ?? 0,
            AbortedTotal = Find(MetricVocabulary.RunAborted)?.Total ?? 0,
        };
    }

    /// <summary>
    /// Without a declared SLA, a pipeline is expected to succeed about as often as it has: twice the
    /// median gap between its recent successes (at least five minutes), once it has three of them.
    /// </summary>
    internal static double? InferredSlaSeconds(MetricSeries? success)
    {
        if (success is null) return null;
        var times = success.Raw(64).Select(p => p.TimestampMs).ToArray();
        if (times.Length < 3) return null;
        var gaps = new double[times.Length - 1];
        for (var i = 1; i < times.Length; i++) gaps[i - 1] = (times[i] - times[i - 1]) / 1000.0;
        Array.Sort(gaps);
        var median = gaps[gaps.Length / 2];
        return Math.Max(300, 2 * median);
    }
}
