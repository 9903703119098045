using System.Collections.Concurrent;
using AiOps.Abstractions;
using AiOps.Grains.Lineage;
using AiOps.Server.Ingestion;

namespace AiOps.Server.Lineage;

/// <summary>What one accepted OpenLineage request did.</summary>
public sealed record LineageIngestResponse(int Accepted, int RunEvents, int DatasetEvents, int JobEvents, int Points, int GraphChanges);

/// <summary>
/// Turns checked OpenLineage events into (1) lineage graph and dataset facts, sent to their grains only when this
/// front end has not sent them before, and (2) telemetry points for the durable ingest path:
/// START → run.started, COMPLETE → run.success (+ duration, computed by the pipeline from the start of the same run),
/// FAIL → run.failure with the error message, ABORT → run.aborted; rows.in/rows.out from input/outputStatistics;
/// dq.failures from dataQualityAssertions; dataset.writes (and rows.out) on each output of a COMPLETE.
/// Every point's event id is a hash of (runId, eventType, eventTime, metric), so a replayed event counts once.
/// </summary>
public sealed class LineageIngestor(IClusterClient client)
{
    /// <summary>Beyond this many remembered nodes and edges the cache starts over (re-sending is harmless: the graph merges).</summary>
    public const int MaxCachedEntries = 200_000;

    private sealed record JobAttributes(string? ParentNamespace, string? ParentName, string? JobType, string? Description)
    {
        /// <summary>True when <paramref name="next"/> states something this does not (an absent facet changes nothing).</summary>
        public bool ChangedBy(JobAttributes next) =>
            (next.ParentName is not null && (next.ParentNamespace != ParentNamespace || next.ParentName != ParentName))
            || (next.JobType is not null && next.JobType != JobType)
            || (next.Description is not null && next.Description != Description);

        public JobAttributes Merge(JobAttributes next) => new(
            next.ParentName is not null ? next.ParentNamespace : ParentNamespace,
            next.ParentName ?? ParentName,
            next.JobType ?? JobType,
            next.Description ?? Description);
    }

    private readonly ConcurrentDictionary<string, JobAttributes> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _edges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ulong> _datasets = new(StringComparer.Ordinal);

    /// <summary>Applies the graph and dataset facts of <paramref name="events"/> (only what is new); returns the graph's change count.</summary>
    internal async Task<int> ApplyMetadataAsync(List<OpenLineageEvent> events)
    {
        if (_jobs.Count + _edges.Count + _datasets.Count > MaxCachedEntries)
        {
            _jobs.Clear();
            _edges.Clear();
            _datasets.Clear();
        }
        var jobs = new Dictionary<string, LineageJob>(StringComparer.Ordinal);
        var jobAttrs = new Dictionary<string, JobAttributes>(StringComparer.Ordinal);
        var newEdges = new HashSet<string>(StringComparer.Ordinal);
        var graphDatasets = new Dictionary<string, LineageDataset>(StringComparer.Ordinal);
        var facts = new Dictionary<string, (DatasetFacts Facts, ulong Hash, string Id)>(StringComparer.Ordinal);

        void Dataset(OpenLineageDataset d)
        {
            var node = LineageGraphGrain.DatasetNodeId(d.Namespace, d.Name);
            var id = LineageIds.For(d.Namespace, d.Name);
            var known = _datasets.TryGetValue(node, out var hash);
            if (known && (d.FactsHash == 0 || d.FactsHash == hash)) return;
            // Seen earlier in this request: only facets replace what that occurrence said.
            if (facts.TryGetValue(node, out var earlier) && (d.FactsHash == 0 || d.FactsHash == earlier.Hash)) return;
            graphDatasets[node] = new LineageDataset(d.Namespace, d.Name, id, d.Fields);
            facts[node] = (new DatasetFacts
            {
                Namespace = d.Namespace,
                Name = d.Name,
                Fields = d.Fields,
                Owners = d.Owners,
                Description = d.Description,
                SourceName = d.SourceName,
            }, d.FactsHash, id);
        }

        foreach (var e in events)
        {
            foreach (var d in e.Inputs) Dataset(d);
            foreach (var d in e.Outputs) Dataset(d);
            if (e.Dataset is not null) Dataset(e.Dataset);
            if (e.JobNamespace is null || e.JobName is null) continue;

            var jobNode = LineageGraphGrain.JobNodeId(e.JobNamespace, e.JobName);
            var attrs = new JobAttributes(e.ParentJobNamespace, e.ParentJobName, e.JobType, e.JobDescription);
            var inputs = new List<LineageDataset>();
            var outputs = new List<LineageDataset>();
            foreach (var d in e.Inputs)
            {
                var edge = "i|" + jobNode + "|" + LineageGraphGrain.DatasetNodeId(d.Namespace, d.Name);
                if (!_edges.ContainsKey(edge) && newEdges.Add(edge)) inputs.Add(new LineageDataset(d.Namespace, d.Name, LineageIds.For(d.Namespace, d.Name)));
            }
            foreach (var d in e.Outputs)
            {
                var edge = "o|" + jobNode + "|" + LineageGraphGrain.DatasetNodeId(d.Namespace, d.Name);
                if (!_edges.ContainsKey(edge) && newEdges.Add(edge)) outputs.Add(new LineageDataset(d.Namespace, d.Name, LineageIds.For(d.Namespace, d.Name)));
            }
            var known = jobAttrs.GetValueOrDefault(jobNode) ?? _jobs.GetValueOrDefault(jobNode);
            var attrsKnown = known is not null && !known.ChangedBy(attrs);
            if (attrsKnown && inputs.Count == 0 && outputs.Count == 0) continue;
            var update = new LineageJob
            {
                Namespace = e.JobNamespace,
                Name = e.JobName,
                PipelineId = LineageIds.For(e.JobNamespace, e.JobName),
                ParentNamespace = e.ParentJobNamespace,
                ParentName = e.ParentJobName,
                JobType = e.JobType,
                Description = e.JobDescription,
                Inputs = inputs,
                Outputs = outputs,
            };
            if (jobs.TryGetValue(jobNode, out var earlier))
            {
                update = update with { Inputs = [.. earlier.Inputs, .. inputs], Outputs = [.. earlier.Outputs, .. outputs] };
            }
            jobs[jobNode] = update;
            jobAttrs[jobNode] = known is null ? attrs : known.Merge(attrs);
        }

        var changes = 0;
        if (jobs.Count > 0 || graphDatasets.Count > 0)
        {
            changes = await client.GetGrain<ILineageGraphGrain>(ILineageGraphGrain.DefaultKey)
                .MergeAsync([.. jobs.Values], [.. graphDatasets.Values]);
        }
        if (facts.Count > 0)
        {
            // New datasets (so that inputs nobody writes are entities too) and datasets whose facets changed.
            await Task.WhenAll(facts.Values.Select(f => client.GetGrain<IDatasetGrain>(f.Id).DescribeAsync(f.Facts)));
        }
        // Remembered only once the grains have them.
        foreach (var edge in newEdges) _edges.TryAdd(edge, 0);
        foreach (var (node, attrs) in jobAttrs) _jobs[node] = attrs;
        foreach (var (node, f) in facts) _datasets[node] = f.Hash;
        return changes;
    }

    /// <summary>The telemetry points of the run events, in a rented batch (the caller hands it to the ingest log).</summary>
    internal static ParsedBatch BuildPoints(List<OpenLineageEvent> events)
    {
        var batch = ParsedBatch.Rent();
        foreach (var e in events)
        {
            if (e.Kind != OpenLineageEventKind.Run || e.EventType is null || e.RunId is null || e.JobNamespace is null || e.JobName is null) continue;
            var type = e.EventType;
            var metric = type switch
            {
                "START" => MetricVocabulary.RunStarted,
                "COMPLETE" => MetricVocabulary.RunSuccess,
                "FAIL" => MetricVocabulary.RunFailure,
                "ABORT" => MetricVocabulary.RunAborted,
                _ => null, // RUNNING, OTHER: metadata only
            };
            if (metric is null) continue;
            var pipeline = new EntityKey(EntityKind.Pipeline, LineageIds.For(e.JobNamespace, e.JobName));
            var prefix = $"ol:{e.RunId}:{type}:{e.EventTimeMs}:";
            ulong Id(string m) => TelemetryPoint.HashId(prefix + m);
            KeyValuePair<string, string>[] runAttrs = metric == MetricVocabulary.RunFailure && e.ErrorMessage is { } error
                ? [new(MetricVocabulary.Attributes.RunId, e.RunId), new(MetricVocabulary.Attributes.Error, Clean(error))]
                : [new(MetricVocabulary.Attributes.RunId, e.RunId)];
            batch.Add(pipeline, new TelemetryPoint(metric, 1, e.EventTimeMs, Id(metric), runAttrs));
            batch.Total++;
            if (type is not ("COMPLETE" or "FAIL")) continue;

            long? rowsIn = null, rowsOut = null;
            var checks = 0;
            var failed = 0;
            foreach (var d in e.Inputs)
            {
                if (d.RowCount is { } r) rowsIn = (rowsIn ?? 0) + r;
                checks += d.Assertions;
                failed += d.FailedAssertions;
            }
            foreach (var d in e.Outputs)
            {
                if (d.RowCount is { } r) rowsOut = (rowsOut ?? 0) + r;
                checks += d.Assertions;
                failed += d.FailedAssertions;
            }
            if (rowsIn is { } i) Add(batch, pipeline, MetricVocabulary.RowsIn, i, e.EventTimeMs, Id(MetricVocabulary.RowsIn));
            if (rowsOut is { } o) Add(batch, pipeline, MetricVocabulary.RowsOut, o, e.EventTimeMs, Id(MetricVocabulary.RowsOut));
            if (checks > 0) Add(batch, pipeline, MetricVocabulary.DataQualityFailures, failed, e.EventTimeMs, Id(MetricVocabulary.DataQualityFailures));

            // Per dataset: one point per metric, whether it is listed once or several times.
            var perDataset = new Dictionary<string, (long? Rows, int Checks, int Failed, bool Written)>(StringComparer.Ordinal);
            foreach (var d in e.Inputs.Concat(e.Outputs))
            {
                var id = LineageIds.For(d.Namespace, d.Name);
                var output = e.Outputs.Contains(d);
                var cur = perDataset.GetValueOrDefault(id);
                perDataset[id] = (
                    output && d.RowCount is { } r ? (cur.Rows ?? 0) + r : cur.Rows,
                    cur.Checks + d.Assertions,
                    cur.Failed + d.FailedAssertions,
                    cur.Written || (output && type == "COMPLETE"));
            }
            foreach (var (id, s) in perDataset)
            {
                var dataset = new EntityKey(EntityKind.Dataset, id);
                if (s.Written) Add(batch, dataset, MetricVocabulary.DatasetWrites, 1, e.EventTimeMs, Id(MetricVocabulary.DatasetWrites));
                if (s.Rows is { } r) Add(batch, dataset, MetricVocabulary.RowsOut, r, e.EventTimeMs, Id(MetricVocabulary.RowsOut));
                if (s.Checks > 0) Add(batch, dataset, MetricVocabulary.DataQualityFailures, s.Failed, e.EventTimeMs, Id(MetricVocabulary.DataQualityFailures));
            }
        }
        return batch;
    }

    private static void Add(ParsedBatch batch, EntityKey entity, string metric, double value, long timestampMs, ulong id)
    {
        batch.Add(entity, new TelemetryPoint(metric, value, timestampMs, id, null));
        batch.Total++;
    }

    private static string Clean(string message)
    {
        var s = message.Length > Limits.MaxAttributeValueLength ? message[..Limits.MaxAttributeValueLength] : message;
        return string.Create(s.Length, s, (span, src) =>
        {
            for (var i = 0; i < src.Length; i++) span[i] = char.IsControl(src[i]) ? ' ' : src[i];
        });
    }
}
