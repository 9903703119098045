using AiOps.Abstractions;
using AiOps.Grains.Entities;

namespace AiOps.Server.Ingestion.Durability;

/// <summary>
/// Cluster mode: hands logged batches to entity grains wherever they live (a grain call per entity and flush) and
/// keeps the log's bookkeeping honest across silo failures. Each reply tells how far the entity's saved state covers
/// this partition (the log is trimmed behind the lowest); a reply that reports a gap — the entity was reactivated
/// from saved state after its silo died — is answered by delivering again, from the log in PostgreSQL, every point
/// of that entity after what it holds. Entities that stay quiet are asked now and then, so that a lost activation
/// is noticed even without new traffic. Gaps are repaired in coalesced scans: one read of the log serves every
/// entity that asked meanwhile.
/// </summary>
public sealed class LogDelivery(IClusterClient client, IngestCheckpoints checkpoints, ILogger<LogDelivery> logger)
{
    private readonly object _gate = new();
    private Dictionary<(EntityKind Kind, string Id), (long From, TaskCompletionSource Done)> _repairs = [];
    private Task? _repairRun;
    private IIngestLogStore? _store;

    public int Partition { get; private set; }

    /// <summary>Entities whose points were delivered again after a gap (diagnostics, tests).</summary>
    public long Repaired => Interlocked.Read(ref _repaired);
    private long _repaired;

    public void Use(IIngestLogStore store, int partition)
    {
        _store = store;
        Partition = partition;
    }

    private readonly CancellationTokenSource _stopped = new();

    /// <summary>
    /// After the silo stopped: deliveries still retrying give up (their points stay in the log, which is not trimmed
    /// past what an entity's saved state does not cover, and come again at the next start).
    /// </summary>
    public void Stop() => _stopped.Cancel();

    /// <summary>Delivers until the entity took it (answered events are never given up).</summary>
    public async Task DeliverAsync(EntityKind kind, string id, TelemetryBatch batch)
    {
        var grain = client.GetEntity(kind, id);
        var delay = TimeSpan.FromMilliseconds(20);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var reply = await grain.DeliverAsync(batch);
                if (reply.Gap)
                {
                    await RepairAsync(kind, id, reply.Applied);
                    return;
                }
                checkpoints.Saved(batch.LogPartition, kind, id, reply.Saved);
                return;
            }
            catch (Exception ex)
            {
                _stopped.Token.ThrowIfCancellationRequested();
                // The grain's silo died and membership has not said so yet, or a timeout: same batch again (positions dedupe).
                if (attempt % 10 == 0) logger.LogWarning(ex, "Delivery to {Kind}/{Id} still failing after {Attempt} attempts", kind, id, attempt);
                await Task.Delay(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }

    /// <summary>Delivers again every logged point of the entity after <paramref name="from"/>.</summary>
    public Task RepairAsync(EntityKind kind, string id, long from)
    {
        lock (_gate)
        {
            if (_repairs.TryGetValue((kind, id), out var queued))
            {
                if (from < queued.From) _repairs[(kind, id)] = (from, queued.Done);
                return queued.Done.Task;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _repairs[(kind, id)] = (from, done);
            if (_repairRun is null || _repairRun.IsCompleted) _repairRun = Task.Run(RepairLoopAsync);
            return done.Task;
        }
    }

    private async Task RepairLoopAsync()
    {
        while (true)
        {
            await Task.Delay(100); // let the gaps of one failure gather: one scan serves them all
            Dictionary<(EntityKind Kind, string Id), (long From, TaskCompletionSource Done)> work;
            lock (_gate)
            {
                if (_repairs.Count == 0)
                {
                    _repairRun = null;
                    return;
                }
                work = _repairs;
                _repairs = [];
            }
            try
            {
                var wanted = work.ToDictionary(w => new EntityKey(w.Key.Kind, w.Key.Id), w => w.Value.From);
                await RedeliverAsync(_store!, Partition, wanted);
                Interlocked.Add(ref _repaired, work.Count);
                logger.LogInformation("Delivered again the logged points of {Count} entities whose activation had lost them", work.Count);
                foreach (var (_, (_, done)) in work) done.TrySetResult();
            }
            catch (Exception ex)
            {
                if (_stopped.IsCancellationRequested)
                {
                    foreach (var (_, (_, done)) in work) done.TrySetCanceled();
                    lock (_gate)
                    {
                        foreach (var (_, (_, done)) in _repairs) done.TrySetCanceled();
                        _repairs = [];
                        _repairRun = null;
                    }
                    return;
                }
                logger.LogError(ex, "Repairing {Count} entities from the ingest log failed; tried again", work.Count);
                lock (_gate)
                {
                    foreach (var (key, value) in work)
                        if (!_repairs.ContainsKey(key)) _repairs[key] = value;
                }
                await Task.Delay(1000);
            }
        }
    }

    /// <summary>
    /// Delivers again, from <paramref name="store"/> (partition <paramref name="partition"/>), every logged point of the
    /// wanted entities after the position given for each: one read of the log for all of them.
    /// </summary>
    public async Task RedeliverAsync(IIngestLogStore store, int partition, IReadOnlyDictionary<EntityKey, long> wanted)
    {
        if (wanted.Count == 0) return;
        var from = wanted.Values.Min();
        var selected = new List<ParsedBatch>();
        try
        {
            foreach (var (position, payload) in store.ReadAfter(from))
            {
                foreach (var request in IngestLogCodec.Decode(payload))
                {
                    var keep = ParsedBatch.Rent();
                    var points = request.Points;
                    var entityOf = request.EntityOf;
                    for (var i = 0; i < points.Length; i++)
                    {
                        var key = request.Entities[entityOf[i]];
                        if (wanted.TryGetValue(key, out var after) && position > after) keep.Add(key, points[i]);
                    }
                    request.Release();
                    if (keep.Accepted == 0) { keep.Release(); continue; }
                    keep.LogPosition = position;
                    selected.Add(keep);
                }
            }
            var tasks = new List<Task>();
            foreach (var (key, batch) in TelemetryPublisher.Merge(selected))
                tasks.Add(DeliverAsync(key.Kind, key.Id, batch with { LogPartition = partition, PreviousPosition = 0 }));
            await Task.WhenAll(tasks);
        }
        finally
        {
            foreach (var b in selected) b.Release();
        }
    }

    /// <summary>Asks entities that were delivered to long ago and have not reported a covering save.</summary>
    public async Task CheckQuietEntitiesAsync(TimeSpan quietFor, CancellationToken cancellationToken)
    {
        var stale = checkpoints.StalePending(Partition, quietFor);
        await Parallel.ForEachAsync(stale, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (item, _) =>
        {
            try
            {
                var reply = await client.GetEntity(item.Kind, item.Id).GetLogCheckpointAsync(Partition);
                if (reply.Applied < item.Entry.LastPublished) await RepairAsync(item.Kind, item.Id, reply.Applied);
                else checkpoints.Saved(Partition, item.Kind, item.Id, reply.Saved);
            }
            catch (Exception ex)
            {
                logger.LogDebug(ex, "Asking {Kind}/{Id} for its log checkpoint failed", item.Kind, item.Id);
            }
        });
    }
}
