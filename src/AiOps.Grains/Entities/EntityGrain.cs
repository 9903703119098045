using System.IO.Compression;
using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.Grains.Detection;
using AiOps.Grains.Series;
using AiOps.Grains.Value;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace AiOps.Grains.Entities;

/// <summary>
/// Shared machinery of pipeline, model and cost-center grains: the implicit stream subscription,
/// idempotent application of batches, bounded series, write-behind persistence and digests for the
/// value grain. Kind-specific statistics live in the subclasses.
/// </summary>
public abstract class EntityGrain : Grain, IEntityGrain, IStreamSubscriptionObserver
{
    private readonly IPersistentState<EntityState> _state;
    private readonly EntityGrainOptions _options;
    private readonly ILogger _logger;
    private readonly IngestionProgress? _progress;
    private readonly Dictionary<string, MetricSeries> _series = new(StringComparer.Ordinal);
    private RecentIds _eventIds = null!;
    private RecentIds _batchIds = null!;
    private bool _dirty;
    private EntityDigest? _lastDigest;
    private IGrainTimer? _persistTimer;
    private IGrainTimer? _digestTimer;
    // The digest and write-behind timers' current periods (DigestInterval and PersistInterval, doubled after each check
    // that found nothing to do, up to IdleCheckInterval), and whether anything arrived or changed since the last digest check.
    private TimeSpan _digestPeriod;
    private TimeSpan _persistPeriod;
    private bool _activeSinceCheck;
    private IGrainTimer? _modelTimer;
    private readonly IPersistentState<DetectorState>? _models;
    private readonly DetectorSet _detectors;
    private readonly List<AlertSignal> _signals = [];
    private long _batchPublishedAtMs;
    private IngestCheckpoints? _checkpoints;
    // References to the singleton grains this entity calls on every digest tick (and with its signals): GetGrain
    // resolves the interface type by reflection each time, about half a percent of the ingest bench's CPU.
    private IDigestCollectorGrain? _digestCollector;
    private IAlertIngressGrain? _alertIngress;
    private IRuleScheduleGrain? _ruleSchedule;

    protected EntityGrain(IPersistentState<EntityState> state, IOptions<EntityGrainOptions> options, TimeProvider time, ILogger logger, IngestionProgress? progress = null, IPersistentState<DetectorState>? models = null)
    {
        _models = models;
        _progress = progress;
        _state = state;
        _options = options.Value;
        _detectors = new DetectorSet(alarmScore: _options.AlarmThreshold, inlineTraining: _options.InlineDetectorTraining);
        Time = time;
        _logger = logger;
    }

    protected abstract EntityKind Kind { get; }

    private GrainMetrics? _metrics;

    /// <summary>The host's grain instruments (resolved once per activation; no constructor change for the kinds).</summary>
    protected GrainMetrics Metrics => _metrics ??= ServiceProvider.GetRequiredService<GrainMetrics>();
    protected EntityGrainOptions Options => _options;
    protected TimeProvider Time { get; }
    protected EntityState State => _state.State;
    protected string Id => this.GetPrimaryKeyString();
    protected IReadOnlyDictionary<string, MetricSeries> SeriesByName => _series;

    protected virtual SeriesRetention RetentionFor(string metric) => SeriesRetention.Default;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!_state.RecordExists) await AdoptLegacyStateAsync();
        _checkpoints = ServiceProvider.GetService<IngestCheckpoints>();
        _savedPositions = new Dictionary<int, long>(State.LogPositions);
        _eventIds = new RecentIds(_options.RecentEventIds);
        _batchIds = new RecentIds(_options.RecentBatchIds);
        LoadData(State.Data);
        _detectors.LocalTime = LocalTime(State.Metadata);
        if (_models is not null)
        {
            _detectors.Load(_models.State);
            var modelJitter = TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Math.Max(1, _options.ModelPersistInterval.TotalMilliseconds)));
            _modelTimer = this.RegisterGrainTimer(SaveModelsIfDirtyAsync, new GrainTimerCreationOptions(_options.ModelPersistInterval + modelJitter, _options.ModelPersistInterval));
        }
        // The detectors are written less often than the entity, and never ahead of it (SaveModelsIfDirtyAsync): after a
        // crash they resume from an older point. The in-order points the entity kept since (its raw window, the points its
        // detectors scored) are fed to them again, and the ingest log replays the rest, so a detector continues as if
        // nothing had been lost when it missed no more than the raw window holds.
        if (_options.Detection)
            foreach (var (metric, series) in _series) _detectors.CatchUp(metric, series.Raw(int.MaxValue));

        // Spread timers so that thousands of grains activated together do not write at the same instant.
        var jitter = TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Math.Max(1, _options.PersistInterval.TotalMilliseconds)));
        _persistPeriod = _options.PersistInterval;
        _persistTimer = this.RegisterGrainTimer(CheckPersistAsync, new GrainTimerCreationOptions(_options.PersistInterval + jitter, _persistPeriod));
        _digestPeriod = _options.DigestInterval;
        _digestTimer = this.RegisterGrainTimer(CheckDigestAsync, new GrainTimerCreationOptions(TimeSpan.FromMilliseconds(Random.Shared.Next(50, 500)), _digestPeriod));
    }

    /// <summary>
    /// Releases before 2026-12 stored all kinds under one state name, so a row there may be this entity's. It is
    /// adopted when nothing in it contradicts this kind (metrics of the vocabulary, metadata fields, model versions,
    /// budget alerts), written under this kind's own name and removed from the shared one; a row written by another
    /// kind is left for that kind. Only read when this kind has no row of its own, so it costs one read per entity once.
    /// </summary>
    private async Task AdoptLegacyStateAsync()
    {
        var storage = ServiceProvider.GetKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.Entities);
        if (storage is null) return;
        var grainId = this.GetGrainId();
        var legacy = new GrainState<EntityState>(new EntityState());
        await storage.ReadStateAsync(StateNames.LegacyEntity, grainId, legacy);
        if (!legacy.RecordExists || legacy.State is null || !FitsThisKind(legacy.State)) return;

        _state.State = legacy.State;
        await _state.WriteStateAsync();
        if (_models is not null)
        {
            var detectors = new GrainState<DetectorState>(new DetectorState());
            await storage.ReadStateAsync(StateNames.LegacyDetectors, grainId, detectors);
            if (detectors.RecordExists && detectors.State is not null)
            {
                _models.State = detectors.State;
                await _models.WriteStateAsync();
                await storage.ClearStateAsync(StateNames.LegacyDetectors, grainId, detectors);
            }
        }
        await storage.ClearStateAsync(StateNames.LegacyEntity, grainId, legacy);
        _logger.LogInformation("{Kind} {Id}: adopted state stored by an earlier release under the shared name '{Legacy}'", Kind, Id, StateNames.LegacyEntity);
    }

    private bool FitsThisKind(EntityState legacy)
    {
        var m = legacy.Metadata ?? EntityMetadata.Empty;
        var fits = Kind switch
        {
            EntityKind.Pipeline => m.TrainingPipelineId is null && m.MonthlyBudget is null && m.Currency is null && m.MaxErrorRate is null && m.MaxLatencyMs is null,
            EntityKind.Model => m.MonthlyBudget is null && m.Currency is null && m.FreshnessSlaSeconds is null,
            EntityKind.CostCenter => m.CostCenterId is null && m.TrainingPipelineId is null && m.FreshnessSlaSeconds is null && m.MaxErrorRate is null && m.MaxLatencyMs is null,
            _ => false,
        };
        if (!fits) return false;
        if (Kind != EntityKind.Model && legacy.Versions.Count > 0) return false;
        if (Kind != EntityKind.CostCenter && legacy.BudgetAlertLevel > 0) return false;
        foreach (var sums in legacy.MonthSums.Values)
        {
            foreach (var metric in sums.Keys) if (!MetricVocabulary.AppliesTo(metric, Kind)) return false;
        }
        foreach (var metric in SeriesNames(legacy.Data)) if (!MetricVocabulary.AppliesTo(metric, Kind)) return false;
        return true;
    }

    private static List<string> SeriesNames(byte[]? data)
    {
        var names = new List<string>();
        if (data is null || data.Length == 0) return names;
        using var input = new MemoryStream(data);
        using var brotli = new BrotliStream(input, CompressionMode.Decompress);
        using var r = new BinaryReader(brotli);
        var version = r.ReadByte();
        if (version is not (1 or 2)) return names;
        var n = r.ReadInt32();
        for (var k = 0; k < n; k++) names.Add(MetricSeries.Read(r, _ => SeriesRetention.Default, version).Name);
        return names;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _persistTimer?.Dispose();
        _digestTimer?.Dispose();
        _modelTimer?.Dispose();
        try
        {
            await PersistIfDirtyAsync(cancellationToken);
            await SaveModelsIfDirtyAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Could not save {Kind} {Id} on deactivation ({Reason})", Kind, Id, reason);
        }
        // At shutdown the value grain is going away too; it was told at the last digest tick and its own state is saved.
        if (reason.ReasonCode == DeactivationReasonCode.ShuttingDown) return;
        try
        {
            await PushDigestAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            _logger.LogDebug(ex, "Digest of {Kind} {Id} not delivered on deactivation", Kind, Id);
        }
    }

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
    {
        var handle = handleFactory.Create<TelemetryBatch>();
        await handle.ResumeAsync(OnStreamBatchAsync);
    }

    private Task OnStreamBatchAsync(IList<SequentialItem<TelemetryBatch>> items)
    {
        foreach (var item in items)
        {
            var batch = item.Item;
            _progress?.OnConsumed(batch.Count, batch.PublishedAtMs);
            if (batch.PreviousPosition > 0 && RefusedAfterGap(batch)) continue;
            Apply(batch);
        }
        if (_refusedThrough > 0) AskAgainIfStillMissing();
        // A replayed batch that saved state already covered leaves nothing to save: tell the log at once.
        if (!_dirty) ReportSaved(State.LogPositions);
        return SendSignalsAsync();
    }

    // Embedded mode: the highest log position of a stream batch refused after a gap (0: none outstanding), its
    // partition, and the position held when the points after it were last asked for (one request per position held).
    private long _refusedThrough;
    private int _refusedPartition;
    private long _gapAskedFrom = -1;

    /// <summary>
    /// Embedded mode: the stream gave an earlier batch for this entity up (its delivery kept failing past the pulling
    /// agent's limit, or the cache dropped it before this entity read it), so this batch's predecessor on the log is
    /// not held here. Applying it would move the covered position past the missing points, and then the log would be
    /// trimmed behind them: it is refused instead, and every logged point after what is held here is asked for again
    /// from the ingest log (delivered by direct calls, outside this turn).
    /// </summary>
    private bool RefusedAfterGap(TelemetryBatch batch)
    {
        var applied = State.LogPositions.GetValueOrDefault(batch.LogPartition);
        if (batch.PreviousPosition <= applied) return false;
        if (batch.LogSegments is { Length: >= 2 } segments && segments[^2] > _refusedThrough) _refusedThrough = segments[^2];
        _refusedPartition = batch.LogPartition;
        AskAgain(batch.LogPartition, applied);
        return true;
    }

    /// <summary>After applying: refused points that are still not held (they were logged after the re-read) are asked for again.</summary>
    private void AskAgainIfStillMissing()
    {
        var applied = State.LogPositions.GetValueOrDefault(_refusedPartition);
        if (applied >= _refusedThrough)
        {
            _refusedThrough = 0;
            _gapAskedFrom = -1;
            return;
        }
        AskAgain(_refusedPartition, applied);
    }

    private void AskAgain(int partition, long applied)
    {
        if (_gapAskedFrom == applied) return; // already asked; the re-delivery brings everything logged after it
        _gapAskedFrom = applied;
        _logger.LogWarning("{Kind} {Id}: a stream batch before log position {Refused} never arrived; its points are delivered again from the ingest log after {Applied}",
            Kind, Id, _refusedThrough, applied);
        _checkpoints?.Gap(partition, Kind, Id, applied);
    }

    public Task ApplyAsync(TelemetryBatch batch)
    {
        Apply(batch);
        if (!_dirty) ReportSaved(State.LogPositions);
        return SendSignalsAsync();
    }

    public async Task<LogCheckpoint> DeliverAsync(TelemetryBatch batch)
    {
        var applied = State.LogPositions.GetValueOrDefault(batch.LogPartition);
        // Behind what the sender delivered before: this activation started from saved state that misses points (the
        // previous one died unsaved). Nothing is applied; the sender delivers again from what is held here.
        if (batch.PreviousPosition > applied) return new LogCheckpoint(applied, SavedPosition(batch.LogPartition), Gap: true);
        Apply(batch);
        if (_refusedThrough > 0) AskAgainIfStillMissing();
        if (!_dirty) ReportSaved(State.LogPositions);
        await SendSignalsAsync();
        return new LogCheckpoint(State.LogPositions.GetValueOrDefault(batch.LogPartition), SavedPosition(batch.LogPartition));
    }

    public Task<LogCheckpoint> GetLogCheckpointAsync(int partition) =>
        Task.FromResult(new LogCheckpoint(State.LogPositions.GetValueOrDefault(partition), SavedPosition(partition)));

    // Positions covered by the last save (what survives this activation).
    private Dictionary<int, long> _savedPositions = [];

    private long SavedPosition(int partition) => _dirty ? _savedPositions.GetValueOrDefault(partition) : State.LogPositions.GetValueOrDefault(partition);

    private void ReportSaved(Dictionary<int, long> positions)
    {
        if (_checkpoints is null) return;
        foreach (var (partition, position) in positions) _checkpoints.Saved(partition, Kind, Id, position);
    }

    public Task<EntitySummary> GetSummaryAsync() => Task.FromResult(BuildSummary());

    public Task<SeriesView?> GetSeriesAsync(string metric, SeriesResolution resolution, int limit)
    {
        if (!_series.TryGetValue(metric, out var s)) return Task.FromResult<SeriesView?>(null);
        var view = new SeriesView(metric, resolution.ToString().ToLowerInvariant(), s.Aggregation.ToString().ToLowerInvariant(), s.Read(resolution, limit));
        return Task.FromResult<SeriesView?>(view);
    }

    public async Task<EntitySummary> PutMetadataAsync(EntityMetadata metadata)
    {
        if (metadata.FreshnessSlaSeconds != State.Metadata.FreshnessSlaSeconds)
            State.SlaSinceMs = metadata.FreshnessSlaSeconds is null ? null : Time.GetUtcNow().ToUnixTimeMilliseconds();
        var previous = State.Metadata;
        if (metadata.MaxSilenceSeconds != State.Metadata.MaxSilenceSeconds)
            State.SilenceSinceMs = metadata.MaxSilenceSeconds is null ? null : Time.GetUtcNow().ToUnixTimeMilliseconds();
        State.Metadata = metadata;
        State.Registered = true;
        Woken();
        _detectors.LocalTime = LocalTime(metadata);
        await SaveAsync();
        await OnMetadataChangedAsync(previous);
        _lastDigest = null;
        await PushDigestAsync(CancellationToken.None);
        return BuildSummary();
    }

    /// <summary>
    /// The zone of <see cref="EntityMetadata.TimeZone"/>; null (UTC) when unset, or when this machine does not know it (the
    /// API accepts only zones the server knows; a silo without the zone data scores in UTC rather than fail the grain).
    /// </summary>
    private static TimeZoneInfo? LocalTime(EntityMetadata metadata) =>
        metadata.TimeZone is { } id && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : null;

    /// <summary>Kind-specific reaction to a metadata change (after it is saved).</summary>
    protected virtual Task OnMetadataChangedAsync(EntityMetadata previous) => Task.CompletedTask;

    /// <summary>Saves state now (kinds whose non-telemetry facts changed).</summary>
    protected Task SaveNowAsync()
    {
        Woken();
        return SaveAsync();
    }

    /// <summary>
    /// Adds a point the entity derived itself from the points it applied (a run's duration from its start and end), as
    /// if it had arrived: series, monthly sums, detector. It has no event id of its own: the point it derives from was
    /// already deduplicated.
    /// </summary>
    protected void AddDerivedPoint(string metric, long timestampMs, double value)
    {
        if (!Limits.IsValidValue(value)) return;
        if (!_series.TryGetValue(metric, out var series))
        {
            if (_series.Count >= Limits.MaxMetricsPerEntity) { State.PointsDropped++; return; }
            series = new MetricSeries(metric, RetentionFor(metric));
            _series.Add(metric, series);
        }
        var inOrder = series.Add(timestampMs, value);
        if (series.Aggregation == MetricAggregation.Sum)
            AddMonthly(State.MonthSums, MonthKey(timestampMs), metric, value, CurrentMonth, cap: int.MaxValue);
        if (inOrder && _options.Detection) Watch(new TelemetryPoint(metric, value, timestampMs, 0, null), series);
    }

    /// <summary>Saves state and reports the digest straight to the value grain (graceful shutdown, tests).</summary>
    public async Task FlushAsync()
    {
        if (_dirty || State.Data is null) await SaveAsync();
        if (State.EventsApplied == 0 && !State.Registered) return;
        var digest = BuildDigest();
        if (digest == _lastDigest) return;
        await GrainFactory.GetGrain<IValueGrain>(IValueGrain.DefaultKey).ReportAsync([digest]);
        _lastDigest = digest;
    }

    // ---- application -------------------------------------------------------------------------

    private int _scoredInBatch;

    // Apply's points of one batch (reused: a grain applies one batch at a time).
    private readonly List<(TelemetryPoint Point, int Index)> _pendingPoints = [];

    private static bool IsInTimeOrder(List<(TelemetryPoint Point, int Index)> points)
    {
        for (var i = 1; i < points.Count; i++)
            if (points[i].Point.TimestampMs < points[i - 1].Point.TimestampMs) return false;
        return true;
    }

    private void Apply(TelemetryBatch batch)
    {
        if (!_batchIds.Add(RecentIds.Hash(batch.BatchId)))
        {
            State.DuplicatesDropped += batch.Count;
            return;
        }

        Woken();
        var nowMonth = MonthKey(Time.GetUtcNow().ToUnixTimeMilliseconds());
        _batchPublishedAtMs = batch.PublishedAtMs;
        // A batch names each metric once (its string table), so consecutive points of a metric share the string:
        // the series found for the previous point is reused without a lookup. Likewise the month of the previous
        // timestamp is reused while points stay within it.
        string? lastMetric = null;
        MetricSeries? lastSeries = null;
        long monthFrom = long.MaxValue, monthTo = long.MinValue;
        var monthOfPoint = 0;
        // Logged points carry their log position (runs of position and count): what saved state covers was applied
        // before a crash and comes again only because the log is replayed from the oldest unsaved record.
        var segments = batch.LogSegments;
        var covered = segments is null ? 0 : State.LogPositions.GetValueOrDefault(batch.LogPartition);
        var segment = -2;
        var segmentLeft = 0;
        var skip = false;
        var applied = false;
        // The points to apply, in time order: a batch holds the points of several requests in the order they reached the
        // log, and with concurrent producers a series' points often arrive a little out of order. Only a point newer than
        // its series' newest is scored, so in arrival order a point that came just after a later one went unscored.
        // Sorted (stably) within the batch, those are scored. Points across batches still arrive as they arrive.
        var pending = _pendingPoints;
        pending.Clear();
        foreach (var p in batch.Points())
        {
            if (segments is not null)
            {
                while (segmentLeft == 0 && segment + 2 < segments.Length)
                {
                    segment += 2;
                    segmentLeft = (int)segments[segment + 1];
                    skip = segments[segment] <= covered;
                }
                segmentLeft--;
                if (skip) continue;
            }
            pending.Add((p, pending.Count));
        }
        if (!IsInTimeOrder(pending)) pending.Sort(static (a, b) => a.Point.TimestampMs != b.Point.TimestampMs ? a.Point.TimestampMs.CompareTo(b.Point.TimestampMs) : a.Index.CompareTo(b.Index));
        foreach (var (p, _) in pending)
        {
            applied = true;
            // Every path into a grain keeps the API's value limit, so no sum kept here can overflow (and make the
            // state unwritable as JSON).
            if (!Limits.IsValidValue(p.Value))
            {
                State.PointsDropped++;
                continue;
            }
            if (p.EventIdHash != 0 && !_eventIds.Add(p.EventIdHash))
            {
                State.DuplicatesDropped++;
                continue;
            }
            MetricSeries? series;
            if (ReferenceEquals(p.Metric, lastMetric)) series = lastSeries!;
            else if (!_series.TryGetValue(p.Metric, out series))
            {
                if (_series.Count >= Limits.MaxMetricsPerEntity)
                {
                    State.PointsDropped++;
                    continue;
                }
                series = new MetricSeries(p.Metric, RetentionFor(p.Metric));
                _series.Add(p.Metric, series);
            }
            lastMetric = p.Metric;
            lastSeries = series;
            if (p.TimestampMs < monthFrom || p.TimestampMs >= monthTo)
            {
                var day = DateTime.UnixEpoch.AddMilliseconds(p.TimestampMs);
                var first = new DateTime(day.Year, day.Month, 1, 0, 0, 0, DateTimeKind.Utc);
                monthFrom = (long)(first - DateTime.UnixEpoch).TotalMilliseconds;
                monthTo = (long)(first.AddMonths(1) - DateTime.UnixEpoch).TotalMilliseconds;
                monthOfPoint = day.Year * 12 + day.Month - 1;
            }

            var inOrder = series.Add(p.TimestampMs, p.Value);
            if (series.Aggregation == MetricAggregation.Sum)
            {
                AddMonthly(State.MonthSums, monthOfPoint, p.Metric, p.Value, nowMonth, cap: int.MaxValue);
            }
            if (p.Metric == MetricVocabulary.Cost && p.Attributes is not null)
            {
                var month = monthOfPoint;
                if (p.Attribute(MetricVocabulary.Attributes.Service) is { } service)
                    AddMonthly(State.CostByService, month, service, p.Value, nowMonth, cap: 50);
                if (p.Attribute(MetricVocabulary.Attributes.Resource) is { } resource)
                    AddMonthly(State.CostByResource, month, resource, p.Value, nowMonth, cap: 50);
            }
            if (inOrder && _options.Detection) Watch(p, series);
            OnPoint(p, series, inOrder);

            State.EventsApplied++;
            if (State.FirstSeenMs is null || p.TimestampMs < State.FirstSeenMs) State.FirstSeenMs = p.TimestampMs;
            if (State.LastSeenMs is null || p.TimestampMs > State.LastSeenMs) State.LastSeenMs = p.TimestampMs;
        }
        pending.Clear();
        if (_scoredInBatch > 0)
        {
            Metrics.PointsScored.Add(_scoredInBatch); // once per batch: a counter update per point cost more than the bookkeeping around it
            _scoredInBatch = 0;
        }
        if (segments is { Length: >= 2 } && segments[^2] > covered)
        {
            State.LogPositions[batch.LogPartition] = segments[^2];
            applied = true;
        }
        if (applied || segments is null) _dirty = true;
    }

    // ---- anomaly detection ---------------------------------------------------------------------

    private void Watch(TelemetryPoint p, MetricSeries series)
    {
        var score = _detectors.Score(p.Metric, p.TimestampMs, p.Value);
        series.ScoreLast(score);
        _scoredInBatch++;
        var i = -1;
        var open = State.OpenAnomalies;
        for (var k = 0; k < open.Count; k++)
        {
            if (string.Equals(open[k].Metric, p.Metric, StringComparison.Ordinal)) { i = k; break; }
        }
        var at = DateTime.UnixEpoch.AddMilliseconds(p.TimestampMs);
        if (score >= _options.AlarmThreshold)
        {
            State.NormalRuns.Remove(p.Metric);
            var reason = ReasonOf(_detectors.LastView(p.Metric));
            if (i < 0)
            {
                State.OpenAnomalies.Add(new OpenAnomaly(p.Metric, at, at, score, p.Value, 1, reason));
                Metrics.AnomaliesDetected.Add(1, new KeyValuePair<string, object?>("kind", Kind.ToWire()), new KeyValuePair<string, object?>("reason", ReasonWire(reason)));
                Signal(AnomalySignal(p, series, score, firing: true, reason));
            }
            else
            {
                var current = open[i];
                // The episode's reason is that of its highest-scoring point, as its alert's is that of its latest signal.
                open[i] = current with { LastAt = at, MaxScore = Math.Max(current.MaxScore, score), LastValue = p.Value, Points = current.Points + 1, Reason = score > current.MaxScore ? reason : current.Reason };
                if (score > current.MaxScore) Signal(AnomalySignal(p, series, score, firing: true, reason));
            }
        }
        else if (i >= 0)
        {
            var run = State.NormalRuns.GetValueOrDefault(p.Metric) + 1;
            State.NormalRuns[p.Metric] = run;
            if (run >= _options.NormalPointsToClose)
            {
                State.OpenAnomalies.RemoveAt(i);
                State.NormalRuns.Remove(p.Metric);
                Signal(AnomalySignal(p, series, score, firing: false));
            }
        }
    }

    private static AnomalyReason? ReasonOf(AiOps.Intelligence.AnomalyView view) => view switch
    {
        AiOps.Intelligence.AnomalyView.Point => AnomalyReason.Point,
        AiOps.Intelligence.AnomalyView.Pattern => AnomalyReason.Pattern,
        AiOps.Intelligence.AnomalyView.Level => AnomalyReason.Level,
        _ => null,
    };

    private static string ReasonWire(AnomalyReason? reason) => reason switch
    {
        AnomalyReason.Point => "point",
        AnomalyReason.Pattern => "pattern",
        AnomalyReason.Level => "level",
        _ => "none",
    };

    private static string Describe(AnomalyReason? reason) => reason switch
    {
        AnomalyReason.Point => ": unlike its recent values",
        AnomalyReason.Pattern => ": off its usual cycle",
        AnomalyReason.Level => ": its recent level is unusual for the series",
        _ => "",
    };

    private AlertSignal AnomalySignal(TelemetryPoint p, MetricSeries series, double score, bool firing, AnomalyReason? reason = null)
    {
        var expected = series.RecentMedian(20);
        var spend = p.Metric == MetricVocabulary.Cost;
        return new AlertSignal
        {
            EntityKind = Kind,
            EntityId = Id,
            Metric = p.Metric,
            Kind = spend ? AlertKind.SpendAnomaly : AlertKind.MetricAnomaly,
            Firing = firing,
            At = DateTime.UnixEpoch.AddMilliseconds(p.TimestampMs),
            Score = score,
            Value = p.Value,
            Expected = expected,
            MoneyAtRisk = spend && expected is { } e ? Math.Max(0, p.Value - e) : null,
            Reason = firing ? reason : null,
            Summary = firing
                ? $"{p.Metric} = {p.Value:G6} is anomalous{Describe(reason)} (score {score:F3}{(expected is { } x ? $", typical {x:G6}" : "")})"
                : $"{p.Metric} is back to normal",
            ReceivedAtMs = _batchPublishedAtMs > 0 ? _batchPublishedAtMs : null,
        };
    }

    /// <summary>A rule-based signal (score 1 while firing) about this entity.</summary>
    protected AlertSignal RuleSignal(AlertKind kind, string metric, bool firing, DateTime at, double value, string summary, double? expected = null) => new()
    {
        EntityKind = Kind,
        EntityId = Id,
        Metric = metric,
        Kind = kind,
        Firing = firing,
        At = at,
        Score = firing ? 1 : 0,
        Value = value,
        Expected = expected,
        Summary = summary,
    };

    /// <summary>Queues a signal for the alerting path; sent after the current batch or timer tick.</summary>
    protected void Signal(AlertSignal signal) => _signals.Add(signal);

    /// <summary>
    /// Sends a rule's signal only on an edge (not firing → firing or back), remembering the edge in the persisted
    /// state. Returns whether a signal was queued.
    /// </summary>
    protected bool SignalEdge(AlertSignal signal)
    {
        var key = signal.Kind.ToString();
        var changed = signal.Firing ? State.FiringRules.Add(key) : State.FiringRules.Remove(key);
        if (!changed) return false;
        _dirty = true;
        Woken();
        Signal(signal);
        return true;
    }

    /// <summary>Whether the rule signal of <paramref name="kind"/> was last sent as firing.</summary>
    protected bool IsFiring(AlertKind kind) => State.FiringRules.Contains(kind.ToString());

    private Task SendSignalsAsync()
    {
        if (_signals.Count == 0) return Task.CompletedTask;
        var batch = _signals.ToArray();
        _signals.Clear();
        return (_alertIngress ??= GrainFactory.GetGrain<IAlertIngressGrain>(0)).SignalAsync(batch);
    }

    /// <summary>Time-based rules (freshness, error rate, budget): evaluated on the digest tick, and when a deadline passes.</summary>
    protected virtual void EvaluateRules(DateTime now)
    {
    }

    /// <summary>When the time-driven rules must next be evaluated even if nothing arrives (null: no deadline).</summary>
    protected virtual DateTime? NextRuleDeadline() => null;

    private DateTime? _scheduled;
    private bool _scheduleKnown;

    /// <summary>Keeps the persisted rule schedule in step with this entity's next deadline (a call only when it changes).</summary>
    private Task RescheduleAsync()
    {
        var next = Earliest(NextRuleDeadline(), SilenceDeadline());
        if (_scheduleKnown && next == _scheduled) return Task.CompletedTask;
        _scheduled = next;
        _scheduleKnown = true;
        return (_ruleSchedule ??= GrainFactory.GetGrain<IRuleScheduleGrain>(IRuleScheduleGrain.DefaultKey)).ScheduleAsync(Kind, Id, next);
    }

    public async Task EvaluateRulesAsync()
    {
        _scheduleKnown = false; // the schedule dropped the entry it handed out
        _lastDigest = null;
        await PushDigestAsync(CancellationToken.None);
        if (State.EventsApplied == 0 && !State.Registered) await RescheduleAsync();
    }

    private async Task SaveModelsIfDirtyAsync(CancellationToken cancellationToken)
    {
        if (_models is null || !_detectors.Dirty) return;
        // The entity first: a detector stored ahead of it would learn the points the log replays after a crash twice.
        await PersistIfDirtyAsync(cancellationToken);
        _detectors.SaveTo(_models.State);
        await _models.WriteStateAsync();
    }

    /// <summary>Memory held by this entity's detectors (for the benchmarks).</summary>
    protected int DetectorBytes => _detectors.EstimatedBytes;

    /// <summary>Kind-specific reaction to one applied point.</summary>
    protected virtual void OnPoint(TelemetryPoint point, MetricSeries series, bool inOrder)
    {
    }

    private static void AddMonthly(Dictionary<int, Dictionary<string, double>> byMonth, int month, string key, double value, int nowMonth, int cap)
    {
        if (month < nowMonth - 2) return; // older than the months we keep
        if (!byMonth.TryGetValue(month, out var sums))
        {
            sums = new Dictionary<string, double>(StringComparer.Ordinal);
            byMonth[month] = sums;
            foreach (var old in byMonth.Keys.Where(m => m < nowMonth - 2).ToList()) byMonth.Remove(old);
        }
        if (sums.Count >= cap && !sums.ContainsKey(key)) key = "(other)";
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sums, key, out _) += value;
    }

    public static int MonthKey(long timestampMs)
    {
        var d = DateTime.UnixEpoch.AddMilliseconds(timestampMs);
        return d.Year * 12 + d.Month - 1;
    }

    public static string MonthName(int monthKey) => $"{monthKey / 12:D4}-{monthKey % 12 + 1:D2}";

    protected int CurrentMonth => MonthKey(Time.GetUtcNow().ToUnixTimeMilliseconds());

    protected double MonthSum(string metric, int month) =>
        State.MonthSums.TryGetValue(month, out var sums) ? sums.GetValueOrDefault(metric) : 0;

    protected MetricSeries? Find(string metric) => _series.GetValueOrDefault(metric);

    // ---- summaries -----------------------------------------------------------------------------

    private EntitySummary BuildSummary()
    {
        var summary = new EntitySummary
        {
            Kind = Kind,
            Id = Id,
            Registered = State.Registered,
            Metadata = State.Metadata,
            FirstSeen = ToDate(State.FirstSeenMs),
            LastSeen = ToDate(State.LastSeenMs),
            EventsApplied = State.EventsApplied,
            DuplicatesDropped = State.DuplicatesDropped,
            CostMonthToDate = MonthSum(MetricVocabulary.Cost, CurrentMonth),
            Metrics = _series.Values
                .OrderBy(s => s.Name, StringComparer.Ordinal)
                .Select(s => new MetricInfo(
                    s.Name,
                    MetricVocabulary.Find(s.Name)?.Unit ?? "",
                    s.Aggregation.ToString().ToLowerInvariant(),
                    s.Points,
                    s.LastValue,
                    DateTime.UnixEpoch.AddMilliseconds(Math.Max(0, s.LastTimestampMs)),
                    s.Total))
                .ToList(),
            OpenAnomalies = State.OpenAnomalies.ToList(),
        };
        return Describe(summary);
    }

    /// <summary>Adds the kind-specific statistics to the summary.</summary>
    protected abstract EntitySummary Describe(EntitySummary summary);

    /// <summary>Adds the kind-specific figures to the digest.</summary>
    protected abstract EntityDigest Digest(EntityDigest digest);

    private EntityDigest BuildDigest()
    {
        var month = CurrentMonth;
        var digest = new EntityDigest
        {
            Kind = Kind,
            Id = Id,
            Name = State.Metadata.Name,
            Team = State.Metadata.Team,
            CostCenterId = State.Metadata.CostCenterId,
            MonthKey = month,
            CostMonthToDate = MonthSum(MetricVocabulary.Cost, month),
            EventsApplied = State.EventsApplied,
            LastSeen = ToDate(State.LastSeenMs),
            OpenAnomalies = State.OpenAnomalies.Count,
        };
        return Digest(digest);
    }

    private static DateTime? Earliest(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a < b ? a : b;

    /// <summary>When the entity counts as silent if nothing arrives (null: no limit set, or already silent).</summary>
    private DateTime? SilenceDeadline()
    {
        if (State.Metadata.MaxSilenceSeconds is not { } limit || IsFiring(AlertKind.MissingTelemetry)) return null;
        var from = Math.Max(State.LastSeenMs ?? long.MinValue, State.SilenceSinceMs ?? long.MinValue);
        return from == long.MinValue ? null : DateTime.UnixEpoch.AddMilliseconds(from).AddSeconds(limit + 1);
    }

    /// <summary>The rule every kind has: missing telemetry (no event for longer than <see cref="EntityMetadata.MaxSilenceSeconds"/>).</summary>
    private void EvaluateSilence(DateTime now)
    {
        if (State.Metadata.MaxSilenceSeconds is not { } limit)
        {
            if (IsFiring(AlertKind.MissingTelemetry))
                SignalEdge(RuleSignal(AlertKind.MissingTelemetry, "telemetry", false, now, 0, "missing-telemetry check removed"));
            return;
        }
        var lastMs = State.LastSeenMs;
        var from = Math.Max(lastMs ?? long.MinValue, State.SilenceSinceMs ?? long.MinValue);
        if (from == long.MinValue) return;
        var silent = (now - DateTime.UnixEpoch.AddMilliseconds(from)).TotalSeconds;
        if (silent > limit)
        {
            SignalEdge(RuleSignal(AlertKind.MissingTelemetry, "telemetry", true, now, silent,
                lastMs is null ? $"no telemetry since the limit of {limit:F0} s was set" : $"no telemetry for {silent:F0} s (limit {limit:F0} s)", limit));
        }
        else
        {
            SignalEdge(RuleSignal(AlertKind.MissingTelemetry, "telemetry", false, now, silent, "telemetry arrives again", limit));
        }
    }

    /// <summary>
    /// The digest timer's tick. An entity that received nothing since the last tick and whose digest did not change checks
    /// half as often as before (down to once per <see cref="EntityGrainOptions.IdleCheckInterval"/>); see <see cref="Woken"/>.
    /// </summary>
    private async Task CheckDigestAsync(CancellationToken cancellationToken)
    {
        Metrics.TimerChecks.Add(1, GrainMetrics.DigestTimer);
        var before = _lastDigest;
        var active = _activeSinceCheck;
        _activeSinceCheck = false;
        await PushDigestAsync(cancellationToken);
        if (!active && ReferenceEquals(before, _lastDigest)) SlowDown(_digestTimer, ref _digestPeriod);
    }

    /// <summary>The write-behind timer's tick: saves a changed state; with nothing to save, checks half as often as before.</summary>
    private Task CheckPersistAsync(CancellationToken cancellationToken)
    {
        Metrics.TimerChecks.Add(1, GrainMetrics.WriteTimer);
        if (_dirty) return SaveAsync();
        SlowDown(_persistTimer, ref _persistPeriod);
        return Task.CompletedTask;
    }

    private void SlowDown(IGrainTimer? timer, ref TimeSpan period)
    {
        var longer = period * 2;
        var next = longer > _options.IdleCheckInterval ? _options.IdleCheckInterval : longer;
        if (timer is null || next <= period) return;
        period = next;
        timer.Change(next, next);
    }

    /// <summary>
    /// Something arrived or changed (points applied, metadata, a rule edge): timers that had slowed down go back to their
    /// periods at once, so the digest follows within <see cref="EntityGrainOptions.DigestInterval"/> and the state is
    /// written within <see cref="EntityGrainOptions.PersistInterval"/>, as for an entity that was never idle.
    /// </summary>
    protected void Woken()
    {
        _activeSinceCheck = true;
        if (_digestPeriod > _options.DigestInterval && _digestTimer is not null)
        {
            _digestPeriod = _options.DigestInterval;
            _digestTimer.Change(_digestPeriod, _digestPeriod);
        }
        if (_persistPeriod > _options.PersistInterval && _persistTimer is not null)
        {
            _persistPeriod = _options.PersistInterval;
            _persistTimer.Change(_persistPeriod, _persistPeriod);
        }
    }

    private async Task PushDigestAsync(CancellationToken cancellationToken)
    {
        if (State.EventsApplied == 0 && !State.Registered) return;
        EvaluateSilence(Time.GetUtcNow().UtcDateTime);
        EvaluateRules(Time.GetUtcNow().UtcDateTime);
        await SendSignalsAsync();
        await RescheduleAsync();
        var digest = BuildDigest();
        if (digest == _lastDigest) return;
        await (_digestCollector ??= GrainFactory.GetGrain<IDigestCollectorGrain>(0)).SubmitAsync(digest);
        _lastDigest = digest;
    }

    // ---- persistence ---------------------------------------------------------------------------

    private Task PersistIfDirtyAsync(CancellationToken cancellationToken) => _dirty ? SaveAsync() : Task.CompletedTask;

    private async Task SaveAsync()
    {
        State.Data = SaveData();
        var covered = new Dictionary<int, long>(State.LogPositions);
        await _state.WriteStateAsync();
        _dirty = false;
        _savedPositions = covered;
        ReportSaved(covered);
    }

    /// <summary>Size of the persisted blob and an estimate of in-memory series size, for the state-size benchmark.</summary>
    protected int SeriesBytes => _series.Values.Sum(s => s.ApproximateBytes);

    private byte[] SaveData()
    {
        using var raw = new MemoryStream();
        using (var w = new BinaryWriter(raw, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write((byte)2);
            w.Write(_series.Count);
            foreach (var s in _series.Values) s.Write(w);
            _eventIds.Write(w);
            _batchIds.Write(w);
        }
        using var compressed = new MemoryStream();
        using (var brotli = new BrotliStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            raw.Position = 0;
            raw.CopyTo(brotli);
        }
        return compressed.ToArray();
    }

    private void LoadData(byte[]? data)
    {
        if (data is null || data.Length == 0) return;
        using var input = new MemoryStream(data);
        using var brotli = new BrotliStream(input, CompressionMode.Decompress);
        using var r = new BinaryReader(brotli);
        var version = r.ReadByte();
        if (version is not (1 or 2)) throw new InvalidOperationException($"Unknown series format {version} in {Kind} {Id}");
        var n = r.ReadInt32();
        for (var k = 0; k < n; k++)
        {
            var s = MetricSeries.Read(r, RetentionFor, version);
            _series[s.Name] = s;
        }
        _eventIds.Read(r);
        _batchIds.Read(r);
    }

    protected static DateTime? ToDate(long? ms) => ms is null ? null : DateTime.UnixEpoch.AddMilliseconds(ms.Value);
}
