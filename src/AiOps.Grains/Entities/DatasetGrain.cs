using AiOps.Abstractions;
using AiOps.Grains.Series;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace AiOps.Grains.Entities;

/// <summary>
/// A dataset (OpenLineage namespace + name): the runs that wrote it (<c>dataset.writes</c>, whose latest point is the
/// last write), rows written into it, data-quality failures on it, and what its facets say (schema, owners).
/// Freshness: the last write within <c>freshnessSlaSeconds</c>, or by default twice the median gap between recent writes.
/// </summary>
[ImplicitStreamSubscription(StreamNames.DatasetNamespace)]
[GrainType(EntityKinds.Dataset)]
public sealed class DatasetGrain(
    [PersistentState(StateNames.Dataset, StorageNames.Entities)] IPersistentState<EntityState> state,
    IOptions<EntityGrainOptions> options,
    TimeProvider time,
    ILogger<DatasetGrain> logger,
    IngestionProgress progress,
    [PersistentState(StateNames.DatasetDetectors, StorageNames.Entities)] IPersistentState<Detection.DetectorState> models)
    : EntityGrain(state, options, time, logger, progress, models), IDatasetGrain
{
    protected override EntityKind Kind => EntityKind.Dataset;

    public async Task DescribeAsync(DatasetFacts facts)
    {
        var known = State.DatasetFacts;
        var merged = new DatasetFacts
        {
            Namespace = facts.Namespace,
            Name = facts.Name,
            Fields = facts.Fields ?? known?.Fields,
            Owners = facts.Owners ?? known?.Owners,
            Description = facts.Description ?? known?.Description,
            SourceName = facts.SourceName ?? known?.SourceName,
        };
        if (known is not null && Same(known, merged)) return;
        State.DatasetFacts = merged;
        State.Registered = true;
        await SaveNowAsync();
    }

    private static bool Same(DatasetFacts a, DatasetFacts b) =>
        a.Namespace == b.Namespace && a.Name == b.Name && a.Description == b.Description && a.SourceName == b.SourceName
        && (a.Fields ?? []).SequenceEqual(b.Fields ?? []) && (a.Owners ?? []).SequenceEqual(b.Owners ?? []);

    protected override EntitySummary Describe(EntitySummary summary) => summary with { Dataset = Stats() };

    protected override EntityDigest Digest(EntityDigest digest) => digest with
    {
        Fresh = Stats().Fresh,
        Name = digest.Name ?? (State.DatasetFacts is { } f ? $"{f.Namespace}:{f.Name}" : null),
    };

    /// <summary>
    /// The moment the dataset goes stale if no write comes: its digest (the value grain's freshness) is re-checked then,
    /// whether the grain is active or not, instead of waiting for a digest check that slows down while nothing arrives.
    /// </summary>
    protected override DateTime? NextRuleDeadline()
    {
        var stats = Stats();
        if (stats.Fresh != true || stats.FreshnessSlaSeconds is not { } sla || stats.LastWriteAt is not { } last) return null;
        return last.AddSeconds(sla + 1);
    }

    private DatasetStats Stats()
    {
        var writes = Find(MetricVocabulary.DatasetWrites);
        var facts = State.DatasetFacts;
        var sla = State.Metadata.FreshnessSlaSeconds ?? PipelineGrain.InferredSlaSeconds(writes);
        long? lastWrite = writes?.LastTimestampMs;
        double? since = lastWrite is null ? null : Math.Max(0, (Time.GetUtcNow().ToUnixTimeMilliseconds() - lastWrite.Value) / 1000.0);
        return new DatasetStats
        {
            Namespace = facts?.Namespace,
            Name = facts?.Name,
            Fields = facts?.Fields ?? [],
            Owners = facts?.Owners ?? [],
            Description = facts?.Description,
            SourceName = facts?.SourceName,
            LastWriteAt = ToDate(lastWrite),
            WritesTotal = writes?.Total ?? 0,
            RowsWrittenTotal = Find(MetricVocabulary.RowsOut)?.Total ?? 0,
            DataQualityFailuresTotal = Find(MetricVocabulary.DataQualityFailures)?.Total ?? 0,
            FreshnessSlaSeconds = sla,
            SecondsSinceLastWrite = since,
            Fresh = sla is null || since is null ? null : since <= sla,
        };
    }
}
