using AiOps.Abstractions;
using AiOps.Grains.Entities;
using AiOps.Server.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;

namespace AiOps.Server.Ingestion;

/// <summary>The ingestion path is saturated; the caller should retry later (HTTP 503).</summary>
public sealed class IngestionBusyException(string message) : Exception(message);

/// <summary>
/// Group commit of telemetry into the per-entity Orleans streams. Requests add their (already validated,
/// grouped) points to a shared buffer; the buffer is flushed (one batch per entity) after at most
/// <see cref="IngestionOptions.MaxFlushDelay"/>, sooner when that keeps the stream message rate within budget and every request in that flush is answered.
/// Coalescing across requests is what makes per-entity streams affordable: 1,000 events spread over
/// 1,000 entities per request would otherwise be 1,000 one-event stream messages.
/// A request's reply is sent only after its points were handed to the stream provider: with durable
/// (ADO.NET) streams that means written to the database.
/// </summary>
public sealed class TelemetryPublisher(
    IClusterClient client,
    IOptions<IngestionOptions> options,
    AiOpsMetrics metrics,
    IngestionProgress progress,
    IngestCheckpoints checkpoints,
    ILogger<TelemetryPublisher> logger) : BackgroundService
{
    private readonly IngestionOptions _options = options.Value;

    /// <summary>When requests are answered (configured, or the mode's default).</summary>
    public IngestionAck Acknowledgement { get; } =
        options.Value.Acknowledge ?? IngestionAck.Logged;

    // Answered before the streams took the events (from the buffer, or from the ingest log): keep retrying them.
    private bool _ackOnBuffer => Acknowledgement is IngestionAck.Buffered or IngestionAck.Logged;
    // Log positions of logged requests not yet handed to the streams (position -> requests), for the log's trim.
    private readonly SortedDictionary<long, int> _unpublishedPositions = [];
    // Completed (and replaced) after every flush: requests waiting for buffer room look again then.
    private TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    // Under the gate: the flush loop is waiting for the next request (nothing buffered or being published at once),
    // not looking every MinFlushDelay: an idle server's timer wake-ups cost a tenth of a core in thread-pool spinning.
    private bool _asleep;
    // Accepted requests waiting for the next flush. Appending is all a request does under the gate; the
    // flush merges them per entity on its own thread (a shared per-entity buffer kept 32 concurrent
    // requests spinning on the gate while each merged its 1,000 entities).
    private List<ParsedBatch> _pending = [];
    private int _pendingEntities; // sum over the pending requests (an upper bound of the distinct entities)
    private TaskCompletionSource _flush = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _buffered;
    private long _requestsBuffered; // requests that went to the buffer so far (the flush loop notices when none came)
    private long _requestsUpstream; // requests taken by the ingest log, not yet here: the input has not paused

    /// <summary>
    /// A request is on its way (in the ingest log's group commit). Requests then arrive here in bursts, one per log
    /// write; without this the gap during a write looked like a pause in the input and flushed small batches.
    /// </summary>
    public void NoteIncoming() => Interlocked.Increment(ref _requestsUpstream);
    private int _inFlight;
    private IStreamProvider? _provider;
    // Immediate (small-request) publishing: the batch a flush is publishing, the entities published
    // immediately since the last flush, and those publishes still running (a flush waits for them, so that
    // an entity's events reach its stream in the order they were accepted).
    private List<ParsedBatch>? _flushing;
    private readonly Dictionary<EntityKey, Task> _immediate = [];
    private readonly List<Task> _immediateRunning = [];

    private const int MaxRequestsToSearch = 256;
    private static long s_mergeTicks;

    /// <summary>Diagnostics: time spent merging pending requests into per-entity batches (all flushes so far).</summary>
    public static TimeSpan MergeTime => System.Diagnostics.Stopwatch.GetElapsedTime(0, Interlocked.Read(ref s_mergeTicks));

    /// <summary>Events accepted but not yet handed to the streams.</summary>
    public int Pending => Volatile.Read(ref _buffered) + Volatile.Read(ref _inFlight);

    /// <summary>
    /// Publishes the batch's points; the task completes once they are on the streams. The publisher owns the batch
    /// from here on and gives it back to the pool when its points are encoded: the caller must not touch it again.
    /// </summary>
    public async Task PublishAsync(ParsedBatch batch)
    {
        if (!_ackOnBuffer)
        {
            await Enqueue(batch);
            return;
        }
        // Answered from the buffer: wait (bounded) for room, then the request is done; the publisher keeps retrying
        // what it holds until the streams take it (see PublishEntityAsync).
        try
        {
            await WaitForRoomAsync(batch.Accepted, _options.BufferWaitTimeout, CancellationToken.None);
        }
        catch (IngestionBusyException)
        {
            batch.Release();
            throw;
        }
        _ = Enqueue(batch, force: true);
    }

    /// <summary>
    /// Waits until the buffer can take <paramref name="events"/> more (always when it is empty); throws
    /// <see cref="IngestionBusyException"/> after <paramref name="timeout"/>.
    /// </summary>
    public async Task WaitForRoomAsync(int events, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = timeout == TimeSpan.MaxValue ? DateTime.MaxValue : DateTime.UtcNow + timeout;
        while (true)
        {
            Task room;
            lock (_gate)
            {
                var held = _buffered + _inFlight;
                if (held == 0 || held + events <= _options.MaxBufferedEvents) return;
                room = _room.Task;
            }
            var left = deadline == DateTime.MaxValue ? Timeout.InfiniteTimeSpan : deadline - DateTime.UtcNow;
            if (left != Timeout.InfiniteTimeSpan && left <= TimeSpan.Zero)
                throw new IngestionBusyException($"The ingestion buffer stayed full for {timeout.TotalSeconds:F0} s; retry shortly.");
            if (await Task.WhenAny(room, Task.Delay(left, cancellationToken)) != room)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new IngestionBusyException($"The ingestion buffer stayed full for {timeout.TotalSeconds:F0} s; retry shortly.");
            }
        }
    }

    /// <summary>
    /// Takes the requests of one ingest-log record (their <see cref="ParsedBatch.LogPosition"/> set to the record's
    /// position), in log order. Never refuses: the requests have been answered. Room was waited for before the log write.
    /// </summary>
    /// <remarks>
    /// An entity skips points at log positions its state already covers (a replay brings them again), so the points one
    /// record holds for an entity must reach it in one batch. The record is taken under one hold of the gate (a flush
    /// takes all of it or none), and requests that share an entity go out together: with the next flush, or at once
    /// when they hold few events. A small request that shares no entity with the rest of its record may still go out
    /// at once on its own (an operator's single anomalous point does not wait for the bulk traffic it was logged with).
    /// Taken one by one, as before, a small request went out at once and the next one of the same record for the same
    /// entity with the following flush, and a flush could be taken while a record was half handed over; the entity
    /// applied the first part and skipped the rest as covered.
    /// </remarks>
    public void EnqueueLoggedRecord(List<ParsedBatch> record)
    {
        if (record.Count == 0) return;
        List<(List<ParsedBatch> Group, TaskCompletionSource Done)>? publishNow = null;
        lock (_gate)
        {
            foreach (var batch in record)
                _unpublishedPositions[batch.LogPosition] = _unpublishedPositions.GetValueOrDefault(batch.LogPosition) + 1;
            List<ParsedBatch>? together = null;
            Dictionary<EntityKey, int>? holders = null; // requests of the record holding each entity (when a small one is there)
            if (record.Count == 1) together = record;
            else
            {
                foreach (var batch in record)
                {
                    if (batch.Accepted <= _options.ImmediatePublishMaxEvents && !SharesAnEntity(batch, holders ??= Holders(record)))
                    {
                        List<ParsedBatch> alone = [batch];
                        if (EnqueueLocked(alone, force: true) is { } done) (publishNow ??= []).Add((alone, done));
                    }
                    else (together ??= []).Add(batch);
                }
            }
            if (together is not null && EnqueueLocked(together, force: true) is { } now) (publishNow ??= []).Add((together, now));
        }
        if (publishNow is not null)
            foreach (var (group, done) in publishNow) _ = PublishNowAsync(group, done);
    }

    /// <summary>For each entity of the record, how many of its requests hold points for it (linear in the record's size).</summary>
    private static Dictionary<EntityKey, int> Holders(List<ParsedBatch> record)
    {
        var holders = new Dictionary<EntityKey, int>();
        foreach (var batch in record)
            foreach (var key in batch.Entities) // distinct within a request
                System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(holders, key, out _)++;
        return holders;
    }

    /// <summary>Does another request of the record hold points for one of this request's entities?</summary>
    private static bool SharesAnEntity(ParsedBatch batch, Dictionary<EntityKey, int> holders)
    {
        foreach (var key in batch.Entities)
            if (holders[key] > 1) return true;
        return false;
    }

    /// <summary>The lowest log position of a request not yet handed to the streams, or null.</summary>
    public long? LowestUnpublishedPosition()
    {
        lock (_gate)
        {
            foreach (var position in _unpublishedPositions.Keys) return position;
            return null;
        }
    }

    /// <summary>Under the gate: the requests' points are on their streams (and in the checkpoints).</summary>
    private void MarkPublished(List<ParsedBatch> requests)
    {
        foreach (var request in requests)
        {
            if (request.LogPosition <= 0) continue;
            if (_unpublishedPositions.TryGetValue(request.LogPosition, out var n))
            {
                if (n <= 1) _unpublishedPositions.Remove(request.LogPosition);
                else _unpublishedPositions[request.LogPosition] = n - 1;
            }
        }
    }

    /// <summary>Hands the batch to the group commit or publishes it at once; the task completes when it is on the streams.</summary>
    private Task Enqueue(ParsedBatch batch, bool force = false)
    {
        List<ParsedBatch> group = [batch];
        TaskCompletionSource? now;
        Task flush;
        lock (_gate)
        {
            flush = _flush.Task;
            now = EnqueueLocked(group, force);
        }
        if (now is null) return flush;
        _ = PublishNowAsync(group, now); // outside the gate; a flush that starts meanwhile waits for it
        return now.Task;
    }

    /// <summary>
    /// Under the gate: the requests go to the group commit together (null), or are to be published at once, together,
    /// by the caller once it left the gate (the completion source to hand to <see cref="PublishNowAsync"/>).
    /// </summary>
    private TaskCompletionSource? EnqueueLocked(List<ParsedBatch> group, bool force)
    {
        if (_asleep)
        {
            _asleep = false;
            if (_wake.CurrentCount == 0) try { _wake.Release(); } catch (SemaphoreFullException) { }
        }
        var accepted = 0;
        foreach (var batch in group) accepted += batch.Accepted;
        if (!force && _buffered + _inFlight + accepted > _options.MaxPendingEvents)
        {
            var waiting = _buffered + _inFlight;
            foreach (var batch in group) batch.Release();
            throw new IngestionBusyException($"{waiting} events are waiting to be published; retry shortly.");
        }
        if (!CanPublishNow(group, accepted))
        {
            foreach (var batch in group)
            {
                _pending.Add(batch);
                _pendingEntities += batch.Entities.Count;
                _requestsBuffered++;
            }
            _buffered += accepted;
            if (_buffered >= _options.FlushAtEvents && _wake.CurrentCount == 0)
            {
                try { _wake.Release(); } catch (SemaphoreFullException) { }
            }
            return null;
        }
        var now = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var batch in group)
            foreach (var key in batch.Entities) _immediate[key] = now.Task;
        _immediateRunning.Add(now.Task);
        _inFlight += accepted;
        return now;
    }

    /// <summary>Under the gate: may these requests skip the group commit (see <see cref="IngestionOptions.ImmediatePublishMaxEvents"/>)?</summary>
    private bool CanPublishNow(List<ParsedBatch> group, int accepted)
    {
        if (accepted > _options.ImmediatePublishMaxEvents || (_provider is null && _delivery is null)) return false;
        // Looking through the waiting requests costs a lookup each: past a bound, take the flush.
        if (_pending.Count + (_flushing?.Count ?? 0) > MaxRequestsToSearch) return false;
        foreach (var batch in group)
        {
            foreach (var key in batch.Entities)
            {
                if (_immediate.ContainsKey(key)) return false;
                foreach (var p in _pending) if (p.Contains(key)) return false;
                if (_flushing is not null) foreach (var p in _flushing) if (p.Contains(key)) return false;
            }
        }
        return true;
    }

    private async Task PublishNowAsync(List<ParsedBatch> group, TaskCompletionSource done)
    {
        var count = 0;
        foreach (var batch in group) count += batch.Accepted;
        var entities = 0;
        try
        {
            progress.OnPublished(count);
            var batches = Merge(group);
            entities = batches.Count;
            var tasks = new List<Task>(entities);
            foreach (var (key, encoded) in batches)
            {
                tasks.Add(PublishEntityAsync(key.Kind, key.Id, Track(key, encoded)));
            }
            await Task.WhenAll(tasks);
            metrics.Published(count, entities);
            lock (_gate)
            {
                _inFlight -= count;
                MarkPublished(group);
            }
            foreach (var batch in group) batch.Release(); // encoded and published
            done.TrySetResult();
        }
        catch (Exception ex)
        {
            foreach (var batch in group) batch.Release();
            logger.LogError(ex, "Publishing {Count} events to {Entities} entity streams failed", count, entities);
            lock (_gate) _inFlight -= count;
            done.TrySetException(new IngestionBusyException("The telemetry streams did not accept the batch; retry (events carrying ids are deduplicated)."));
        }
    }

    /// <summary>Under the gate: a new flush window — entities whose immediate publish has finished may go immediately again.</summary>
    private void NextImmediateWindow()
    {
        if (_immediate.Count > 0)
        {
            List<EntityKey>? done = null;
            foreach (var (key, task) in _immediate)
                if (task.IsCompleted) (done ??= []).Add(key);
            if (done is not null) foreach (var key in done) _immediate.Remove(key);
        }
        _immediateRunning.RemoveAll(t => t.IsCompleted);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Cluster mode with the ingest log delivers by grain calls and configures no stream provider.
        try { _provider = client.GetStreamProvider(StreamNames.Provider); }
        catch (Exception) when (Acknowledgement == IngestionAck.Logged) { _provider = null; }
        var maxDelay = _ackOnBuffer ? _options.BufferedMaxFlushDelay : _options.MaxFlushDelay;
        logger.LogInformation("Ingestion answers requests {When}; events wait at most {MaxDelay} ms for their flush",
            Acknowledgement switch
            {
                IngestionAck.Logged => "once their events are in the ingest log",
                IngestionAck.Buffered => "once buffered in memory (not durable)",
                _ => "once published to the streams",
            }, maxDelay.TotalMilliseconds);
        var lastFlush = DateTime.UtcNow;
        long requestsSeen = 0;
        var quietLooks = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (quietLooks >= 2)
                {
                    // Two looks found nothing to do: sleep until a request arrives (EnqueueLocked wakes us), then
                    // look MinFlushDelay later as usual.
                    bool sleep;
                    lock (_gate)
                    {
                        NextImmediateWindow();
                        sleep = _buffered == 0 && _immediate.Count == 0 && _immediateRunning.Count == 0;
                        _asleep = sleep;
                    }
                    if (sleep)
                    {
                        await _wake.WaitAsync(Timeout.Infinite, stoppingToken);
                        lock (_gate) _asleep = false;
                        lastFlush = DateTime.UtcNow;
                    }
                    quietLooks = 0;
                }
                await _wake.WaitAsync(_options.MinFlushDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            // Adaptive group commit: flush as soon as doing so keeps the stream message rate within budget
            // (quiet periods get the lowest latency), else wait up to MaxFlushDelay so each entity's batch
            // carries more events (under load the per-message cost dominates, not the per-event cost).
            // And when no request came in since the last look, nothing is gained by waiting: the input paused (the
            // end of a burst, a lull), so what is buffered goes now rather than after the rest of the window.
            int entities, buffered;
            long requests;
            lock (_gate) { entities = _pendingEntities; buffered = _buffered; requests = _requestsBuffered + Interlocked.Read(ref _requestsUpstream); }
            var idle = requests == requestsSeen;
            requestsSeen = requests;
            if (buffered == 0)
            {
                quietLooks++;
                lastFlush = DateTime.UtcNow;
                lock (_gate) NextImmediateWindow();
                continue;
            }
            quietLooks = 0;
            var since = DateTime.UtcNow - lastFlush;
            var rate = entities / Math.Max(since.TotalSeconds, 1e-3);
            if (!idle && rate > _options.StreamMessagesPerSecondBudget && since < maxDelay && buffered < _options.FlushAtEvents)
                continue;
            lastFlush = DateTime.UtcNow;
            await FlushOnceAsync();
        }
        // Drain what was accepted before the shutdown began.
        await FlushOnceAsync();
    }

    private async Task FlushOnceAsync()
    {
        List<ParsedBatch> pending;
        TaskCompletionSource flush;
        Task[] immediate;
        int count;
        lock (_gate)
        {
            immediate = _immediateRunning.ToArray();
            NextImmediateWindow();
            if (_buffered == 0) return;
            pending = _pending;
            flush = _flush;
            count = _buffered;
            _pending = new List<ParsedBatch>(pending.Count);
            _pendingEntities = 0;
            _flush = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _buffered = 0;
            _inFlight += count;
            _flushing = pending;
        }

        var published = false;
        try
        {
            // Events published immediately were accepted before these: they go first.
            try { await Task.WhenAll(immediate); } catch (IngestionBusyException) { /* answered to their own request */ }
            progress.OnPublished(count); // before the first delivery can be counted as consumed
            var mergeStart = System.Diagnostics.Stopwatch.GetTimestamp();
            var batches = Merge(pending);
            Interlocked.Add(ref s_mergeTicks, System.Diagnostics.Stopwatch.GetTimestamp() - mergeStart);
            var tasks = new List<Task>(batches.Count);
            foreach (var (key, batch) in batches)
            {
                tasks.Add(PublishEntityAsync(key.Kind, key.Id, Track(key, batch)));
            }
            await Task.WhenAll(tasks);
            metrics.Published(count, batches.Count);
            published = true;
            flush.TrySetResult();
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Publishing {Count} events from {Requests} requests failed", count, pending.Count);
            flush.TrySetException(new IngestionBusyException("The telemetry streams did not accept the batch; retry (events carrying ids are deduplicated)."));
        }
        finally
        {
            TaskCompletionSource room;
            lock (_gate)
            {
                _inFlight -= count;
                _flushing = null;
                // Failed: their log positions stay unpublished, so the log keeps them and the next start replays them.
                if (published) MarkPublished(pending);
                room = _room;
                _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            room.TrySetResult();
            // Nothing reads these requests any more (the fast path looked at them only while _flushing was set).
            foreach (var request in pending) request.Release();
        }
    }

    /// <summary>
    /// One batch per entity, its points in the order the requests were accepted. A counting sort: each request's
    /// entities are mapped to flush-wide slots (one lookup per request and entity, with the hash computed by the
    /// parser), slot sizes give each entity a range of one pooled scratch array, and every request's points are then
    /// read front to back into those ranges. Each range is encoded once.
    /// </summary>
    internal static List<(EntityKey Key, TelemetryBatch Batch)> Merge(List<ParsedBatch> pending)
    {
        var publishedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var total = 0;
        var occurrences = 0;
        var widest = 0;
        foreach (var request in pending)
        {
            total += request.Accepted;
            occurrences += request.Entities.Count;
            widest = Math.Max(widest, request.Entities.Count);
        }
        var slots = new Dictionary<EntityKey, int>(widest);
        var keys = new List<EntityKey>(widest);
        var slotOf = System.Buffers.ArrayPool<int>.Shared.Rent(Math.Max(1, occurrences)); // per (request, entity)
        var sizes = System.Buffers.ArrayPool<int>.Shared.Rent(Math.Max(1, occurrences));  // per slot (at most this many)
        var scratch = System.Buffers.ArrayPool<TelemetryPoint>.Shared.Rent(Math.Max(1, total));
        try
        {
            var o = 0;
            foreach (var request in pending)
            {
                var entities = request.Entities;
                var perEntity = request.PointsPerEntity;
                for (var e = 0; e < entities.Count; e++, o++)
                {
                    ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(slots, entities[e], out var known);
                    if (!known)
                    {
                        slot = keys.Count;
                        keys.Add(entities[e]);
                        sizes[slot] = 0;
                    }
                    slotOf[o] = slot;
                    sizes[slot] += perEntity[e];
                }
            }
            // sizes -> start offsets (kept in sizes), cursors advance from there
            var cursor = System.Buffers.ArrayPool<int>.Shared.Rent(Math.Max(1, keys.Count));
            try
            {
                var offset = 0;
                for (var k = 0; k < keys.Count; k++)
                {
                    cursor[k] = offset;
                    offset += sizes[k];
                    sizes[k] = cursor[k];
                }
                o = 0;
                // Logged requests: each entity's batch says which log position its points came from, as runs of
                // (position, count) in point order, so that a grain skips exactly what its saved state covers.
                List<long>?[]? segments = null;
                foreach (var request in pending)
                {
                    var points = request.Points;
                    var entityOf = request.EntityOf;
                    var first = o;
                    for (var i = 0; i < points.Length; i++)
                    {
                        var slot = slotOf[first + entityOf[i]];
                        scratch[cursor[slot]++] = points[i];
                    }
                    if (request.LogPosition > 0)
                    {
                        segments ??= new List<long>?[keys.Count];
                        var perEntity = request.PointsPerEntity;
                        for (var e = 0; e < perEntity.Length; e++)
                        {
                            var list = segments[slotOf[first + e]] ??= new List<long>(4);
                            if (list.Count > 0 && list[^2] == request.LogPosition) list[^1] += perEntity[e];
                            else { list.Add(request.LogPosition); list.Add(perEntity[e]); }
                        }
                    }
                    o += request.Entities.Count;
                }
                var batches = new List<(EntityKey, TelemetryBatch)>(keys.Count);
                for (var k = 0; k < keys.Count; k++)
                {
                    batches.Add((keys[k], TelemetryBatch.Create(keys[k].Kind, scratch.AsSpan(sizes[k], cursor[k] - sizes[k]), publishedAt, segments?[k]?.ToArray())));
                }
                return batches;
            }
            finally
            {
                System.Buffers.ArrayPool<int>.Shared.Return(cursor);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<int>.Shared.Return(slotOf);
            System.Buffers.ArrayPool<int>.Shared.Return(sizes);
            Array.Clear(scratch, 0, total); // only the used part holds references
            System.Buffers.ArrayPool<TelemetryPoint>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Records a logged batch's positions with the checkpoints and stamps the position sent to the entity before (and
    /// in cluster mode its partition): an entity that does not hold that position refuses the batch and is sent the
    /// missing points again. Called in publish order per entity (an entity is in one flush or immediate publish at a time).
    /// </summary>
    private TelemetryBatch Track(EntityKey key, TelemetryBatch batch)
    {
        if (batch.LogSegments is not { } segments) return batch;
        var previous = checkpoints.Published(_logPartition, key.Kind, key.Id, segments[0], segments[^2]);
        if (_delivery is not null) return batch with { LogPartition = _logPartition, PreviousPosition = previous };
        return _stampPrevious && previous > 0 ? batch with { PreviousPosition = previous } : batch;
    }

    private Durability.LogDelivery? _delivery;
    private int _logPartition;
    private bool _stampPrevious;

    /// <summary>
    /// Embedded mode: logged batches still go through the streams, stamped with the position sent before (partition 0),
    /// so that an entity notices a batch the stream gave up.
    /// </summary>
    public void StampPreviousPositions() => _stampPrevious = true;

    /// <summary>Cluster mode: logged batches go to the grains by direct calls through <paramref name="delivery"/>, stamped with the partition.</summary>
    public void UseLogDelivery(Durability.LogDelivery delivery, int partition)
    {
        _delivery = delivery;
        _logPartition = partition;
    }

    private async Task PublishEntityAsync(EntityKind kind, string id, TelemetryBatch batch)
    {
        if (_delivery is not null && batch.LogSegments is not null)
        {
            await _delivery.DeliverAsync(kind, id, batch);
            return;
        }
        if (_options.DirectGrainCalls)
        {
            await client.GetEntity(kind, id).ApplyAsync(batch);
            return;
        }
        var stream = _provider!.GetStream<TelemetryBatch>(StreamId.Create(StreamNames.NamespaceFor(kind), id));
        var delay = TimeSpan.FromMilliseconds(20);
        // Events answered from the buffer were promised to the streams: keep trying (a full memory queue drains).
        var attempts = _ackOnBuffer ? int.MaxValue : _options.PublishAttempts;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await stream.OnNextAsync(batch);
                return;
            }
            catch (Exception ex) when (attempt < attempts)
            {
                // A full memory queue or a database hiccup: back off and try the same batch (same id) again.
                if (attempt % 10 == 0) logger.LogWarning(ex, "Publish to {Kind}/{Id} still failing after {Attempt} attempts", kind, id, attempt);
                else logger.LogDebug(ex, "Publish to {Kind}/{Id} failed (attempt {Attempt})", kind, id, attempt);
                await Task.Delay(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }
}
