using System.Buffers;
using AiOps.Grains.Entities;
using AiOps.Server.Hosting;
using AiOps.Abstractions;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Ingestion.Durability;

/// <summary>
/// "A 202 means kept" in embedded mode. Accepted requests are appended to a local log with group commit — whatever
/// arrived while the previous write was on its way to disk goes in the next one, one record and one fsync per
/// group — and answered once their record is durable. In the same order they are handed to the publisher, whose
/// per-entity batches carry the log positions of their points; entity grains save the position their state covers
/// with that state, and skip what a replay brings again. At start the log is replayed before any new request is
/// taken; behind the lowest position not yet covered by saved state it is trimmed, so it holds about one
/// write-behind interval of traffic.
/// </summary>
public sealed class IngestLog(
    TelemetryPublisher publisher,
    IngestCheckpoints checkpoints,
    LogDelivery delivery,
    IServiceProvider services,
    IOptions<AiOpsOptions> deployment,
    IOptions<IngestionOptions> options,
    AiOpsMetrics metrics,
    ILogger<IngestLog> logger) : IHostedService, IDisposable
{
    private readonly IngestionOptions _options = options.Value;
    private readonly object _gate = new();
    private List<(ParsedBatch Batch, TaskCompletionSource Done)> _queue = [];
    private int _queuedEvents;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IIngestLogStore? _store;
    private Thread? _writer;
    private volatile bool _stopping;
    private long _position;
    private long _trimmedThrough;
    private long _lastSizeBytes;

    /// <summary>Whether requests are answered from the log (<see cref="IngestionAck.Logged"/>).</summary>
    public bool Enabled { get; } = publisher.Acknowledgement == IngestionAck.Logged;

    /// <summary>Last position written.</summary>
    public long Position => Interlocked.Read(ref _position);

    /// <summary>Highest position trimmed away (every record up to it is covered by saved grain state).</summary>
    public long TrimmedThrough => Interlocked.Read(ref _trimmedThrough);

    /// <summary>Log size on disk at the last trim.</summary>
    public long SizeBytes => Interlocked.Read(ref _lastSizeBytes);

    private static long s_writes, s_writeTicks, s_bytes, s_events;

    /// <summary>Diagnostics (benchmarks): group commits, time in append+fsync, bytes and events written, process-wide.</summary>
    public static (long Writes, TimeSpan WriteTime, long Bytes, long Events) Totals =>
        (Interlocked.Read(ref s_writes), TimeSpan.FromTicks(Interlocked.Read(ref s_writeTicks)), Interlocked.Read(ref s_bytes), Interlocked.Read(ref s_events));

    /// <summary>Records replayed at the last start.</summary>
    public long Replayed { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            _ready.TrySetResult();
            return;
        }
        if (deployment.Value.Mode == DeploymentMode.Cluster)
        {
            // Cluster: this silo's own partition of the log in PostgreSQL; survivors take over a dead silo's partition.
            var data = services.GetRequiredService<Npgsql.NpgsqlDataSource>();
            _partitions = new PostgresLogPartitions(data, $"{Environment.MachineName}:{deployment.Value.SiloPort}:{Environment.ProcessId}:{Guid.NewGuid():N}");
            _partition = await _partitions.ClaimAsync(cancellationToken);
            _store = new PostgresIngestLog(data, _partition);
            delivery.Use(_store, _partition);
            publisher.UseLogDelivery(delivery, _partition);
            _background = Task.WhenAll(
                Every(TimeSpan.FromSeconds(2), ct => _partitions.HeartbeatAsync([_partition, .. _recovering.Keys], ct)),
                Every(_options.QuietEntityCheckPeriod, ct => delivery.CheckQuietEntitiesAsync(_options.QuietEntityAge, ct)),
                Every(TimeSpan.FromSeconds(2), TakeOverAbandonedAsync));
            logger.LogInformation("Ingest log: partition {Partition} in PostgreSQL", _partition);
        }
        else
        {
            _store = new FileIngestLog(Path.Combine(deployment.Value.DataDirectory, "ingest-log"));
            // Embedded: batches reach the entities through the in-process streams, which give a batch up when its
            // delivery keeps failing. Each batch names the position sent before it; an entity missing that position
            // refuses it and asks (GapHandler), and entities that stay behind what was sent to them are asked, so
            // that the missing points are delivered again from this log by direct calls (LogDelivery). The log is
            // never trimmed past them meanwhile: their entity's saved state does not cover them.
            delivery.Use(_store, 0);
            publisher.StampPreviousPositions();
            checkpoints.GapHandler = (partition, kind, id, applied) => delivery.RepairAsync(kind, id, applied);
            _background = Every(_options.QuietEntityCheckPeriod, ct => delivery.CheckQuietEntitiesAsync(_options.QuietEntityAge, ct));
        }
        // New positions start above the clock in microseconds: far more than the records a log writes per second, so
        // they stay above every position saved grain state holds even if the log file was deleted.
        _position = Math.Max(_store.LastPosition(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
        metrics.ObserveIngestLog(this);
        metrics.ObserveRedeliveries(delivery);

        // Replay before taking anything new: an entity must see its logged points before later ones, and a point
        // logged later must not be applied first (its grain would then skip the replayed ones as already covered).
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        long records = 0, events = 0;
        foreach (var (position, payload) in _store.ReadAfter(0))
        {
            // A record's requests are handed over together, as when they were written (see EnqueueLoggedRecord).
            var record = IngestLogCodec.Decode(payload);
            var recordEvents = 0;
            foreach (var batch in record)
            {
                batch.LogPosition = position;
                recordEvents += batch.Accepted;
            }
            events += recordEvents;
            await publisher.WaitForRoomAsync(recordEvents, TimeSpan.MaxValue, cancellationToken);
            publisher.EnqueueLoggedRecord(record);
            records++;
        }
        Replayed = records;
        if (records > 0)
            logger.LogInformation("Replayed {Records} ingest-log records ({Events} events) in {Ms:F0} ms; entities skip what their saved state already covers",
                records, events, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        _writer = new Thread(WriteLoop) { Name = "aiops-ingest-log", IsBackground = true };
        _writer.Start();
        _ready.TrySetResult();
    }

    /// <summary>
    /// Appends the request to the log; completes once it is durable (and handed to the publisher). The log owns the
    /// batch from here on.
    /// </summary>
    public async Task AcceptAsync(ParsedBatch batch)
    {
        if (!_ready.Task.IsCompleted) await _ready.Task;
        try
        {
            await publisher.WaitForRoomAsync(batch.Accepted + Volatile.Read(ref _queuedEvents), _options.BufferWaitTimeout, CancellationToken.None);
        }
        catch (IngestionBusyException)
        {
            batch.Release();
            throw;
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_stopping)
            {
                batch.Release();
                throw new IngestionBusyException("The server is stopping; retry against another instance or after the restart.");
            }
            _queue.Add((batch, done));
            _queuedEvents += batch.Accepted;
            // Monitor rather than a semaphore: SemaphoreSlim spins before it blocks, and the writer waits after
            // every write (profiled: ~8 % of the process's CPU spent spinning there).
            Monitor.Pulse(_gate);
        }
        publisher.NoteIncoming();
        await done.Task;
    }

    private PostgresLogPartitions? _partitions;
    private int _partition;
    private Task? _background;
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> _recovering = new();

    /// <summary>This process's partition of the log (0 in embedded mode).</summary>
    public int Partition => _partition;

    private Task Every(TimeSpan period, Func<CancellationToken, Task> action) => Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, _stop.Token);
                await action(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Ingest log maintenance failed; tried again");
            }
        }
    });

    /// <summary>
    /// Replays the partition of a silo that stopped heartbeating: every record to its entities (they skip what they
    /// hold), then waits until their saved state covers it and empties it.
    /// </summary>
    private async Task TakeOverAbandonedAsync(CancellationToken cancellationToken)
    {
        if (await _partitions!.TakeOverAbandonedAsync(cancellationToken) is not int partition) return;
        _recovering[partition] = true;
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var store = new PostgresIngestLog(services.GetRequiredService<Npgsql.NpgsqlDataSource>(), partition);
            var last = new Dictionary<(AiOps.Abstractions.EntityKind Kind, string Id), long>();
            var chunk = new List<ParsedBatch>();
            var events = 0;
            long records = 0, total = 0;
            async Task DeliverChunkAsync()
            {
                var tasks = new List<Task>();
                foreach (var (key, batch) in TelemetryPublisher.Merge(chunk))
                {
                    last[(key.Kind, key.Id)] = Math.Max(last.GetValueOrDefault((key.Kind, key.Id)), batch.LogSegments![^2]);
                    tasks.Add(delivery.DeliverAsync(key.Kind, key.Id, batch with { LogPartition = partition, PreviousPosition = 0 }));
                }
                await Task.WhenAll(tasks);
                foreach (var b in chunk) b.Release();
                chunk.Clear();
                events = 0;
            }
            foreach (var (position, payload) in store.ReadAfter(0))
            {
                records++;
                foreach (var batch in IngestLogCodec.Decode(payload))
                {
                    batch.LogPosition = position;
                    chunk.Add(batch);
                    events += batch.Accepted;
                    total += batch.Accepted;
                }
                if (events >= 50_000) await DeliverChunkAsync();
            }
            if (chunk.Count > 0) await DeliverChunkAsync();
            logger.LogWarning("Took over the ingest log partition {Partition} of a silo that stopped: {Records} records, {Events} events delivered again to {Entities} entities in {Ms:F0} ms",
                partition, records, total, last.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);

            // Emptied once every entity's saved state covers what it was given.
            while (last.Count > 0 && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
                var covered = new System.Collections.Concurrent.ConcurrentBag<(AiOps.Abstractions.EntityKind, string)>();
                var gaps = new System.Collections.Concurrent.ConcurrentDictionary<EntityKey, long>();
                await Parallel.ForEachAsync(last, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (item, _) =>
                {
                    var reply = await services.GetRequiredService<IClusterClient>().GetEntity(item.Key.Kind, item.Key.Id).GetLogCheckpointAsync(partition);
                    if (reply.Saved >= item.Value) covered.Add(item.Key);
                    // Everything was delivered and applied before this wait: holding less now means the entity's
                    // activation was lost again (another silo died) before it saved. Deliver its points again.
                    else if (reply.Applied < item.Value) gaps[new EntityKey(item.Key.Kind, item.Key.Id)] = reply.Applied;
                });
                foreach (var key in covered) last.Remove(key);
                if (!gaps.IsEmpty)
                {
                    logger.LogWarning("{Count} entities lost points of the taken-over partition {Partition} again; delivering them again", gaps.Count, partition);
                    await delivery.RedeliverAsync(store, partition, gaps);
                }
            }
            store.Trim(long.MaxValue);
            logger.LogInformation("Ingest log partition {Partition} is covered by saved state and emptied", partition);
        }
        finally
        {
            _recovering.TryRemove(partition, out _);
        }
    }

    private void WriteLoop()
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        var batches = new List<ParsedBatch>();
        var lastTrim = DateTime.UtcNow;
        while (true)
        {
            List<(ParsedBatch Batch, TaskCompletionSource Done)> taken;
            lock (_gate)
            {
                if (_queue.Count == 0 && !_stopping) Monitor.Wait(_gate, 200);
                taken = _queue;
                if (taken.Count > 0) _queue = new List<(ParsedBatch, TaskCompletionSource)>(taken.Count);
            }
            if (taken.Count > 0) Write(taken, buffer, batches);
            else if (_stopping) break;
            if (DateTime.UtcNow - lastTrim > _options.LogTrimInterval)
            {
                Trim();
                lastTrim = DateTime.UtcNow;
            }
        }
    }

    private void Write(List<(ParsedBatch Batch, TaskCompletionSource Done)> taken, ArrayBufferWriter<byte> buffer, List<ParsedBatch> batches)
    {
        var events = 0;
        batches.Clear();
        foreach (var (batch, _) in taken)
        {
            batches.Add(batch);
            events += batch.Accepted;
        }
        try
        {
            buffer.ResetWrittenCount();
            IngestLogCodec.Encode(batches, buffer);
            var position = _position + 1;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            _store!.Append(position, GetArray(buffer), buffer.WrittenCount);
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            metrics.IngestLogWritten(buffer.WrittenCount, elapsed.TotalMilliseconds);
            Interlocked.Increment(ref s_writes);
            Interlocked.Add(ref s_writeTicks, elapsed.Ticks);
            Interlocked.Add(ref s_bytes, buffer.WrittenCount);
            Interlocked.Add(ref s_events, events);
            Interlocked.Exchange(ref _position, position);
            lock (_gate) _queuedEvents -= events;
            // Handed on in log order (this thread is the only one that does it), the record's requests together, then
            // answered. A list of its own: the publisher keeps it while it publishes.
            var record = new List<ParsedBatch>(batches.Count);
            foreach (var batch in batches)
            {
                batch.LogPosition = position;
                record.Add(batch);
            }
            publisher.EnqueueLoggedRecord(record);
            foreach (var (_, done) in taken) done.TrySetResult();
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Writing {Events} events to the ingest log failed; their requests get 503", events);
            lock (_gate) _queuedEvents -= events;
            foreach (var (batch, done) in taken)
            {
                batch.Release();
                done.TrySetException(new IngestionBusyException("The ingest log could not be written; nothing of this request was applied. Retry."));
            }
        }
    }

    private static byte[] GetArray(ArrayBufferWriter<byte> buffer) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(buffer.WrittenMemory, out var segment) ? segment.Array! : buffer.WrittenMemory.ToArray();

    private readonly Lock _trimGate = new();

    /// <summary>
    /// Drops every record below what is not yet covered by saved state. On the writer thread, and at a graceful stop;
    /// a host stopped twice at once (as a test host's disposal does) would otherwise trim twice at the same time.
    /// </summary>
    private void Trim()
    {
        lock (_trimGate) TrimLocked();
    }

    private void TrimLocked()
    {
        var through = Position;
        if (publisher.LowestUnpublishedPosition() is { } unpublished) through = Math.Min(through, unpublished - 1);
        if (checkpoints.LowestUnsaved(_partition) is { } unsaved) through = Math.Min(through, unsaved - 1);
        if (through <= TrimmedThrough) return;
        try
        {
            _store!.Trim(through);
            Interlocked.Exchange(ref _trimmedThrough, through);
            Interlocked.Exchange(ref _lastSizeBytes, _store.SizeBytes());
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Trimming the ingest log through {Position} failed; it is tried again", through);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (!Enabled) return Task.CompletedTask;
        // Hosted services stop in reverse order: this runs before the publisher's flush and the grains' final
        // save. What was accepted is written and handed on; the final trim runs once the grains saved (see
        // IngestLogCompaction).
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        _writer?.Join(TimeSpan.FromSeconds(30));
        _stop.Cancel();
        return Task.CompletedTask;
    }

    /// <summary>After the grains' final save at a graceful stop: everything is covered, so the log is emptied.</summary>
    internal void TrimAfterStop()
    {
        delivery.Stop(); // the silo is down: re-deliveries still retrying end here (the log keeps their points)
        if (_store is null) return;
        Trim();
        logger.LogInformation("Ingest log trimmed through {Position} of {Last} at stop", TrimmedThrough, Position);
    }

    public void Dispose()
    {
        _store?.Dispose();
    }
}

/// <summary>Registered before the shutdown drain so that it stops after it: trims the log once every grain has saved.</summary>
public sealed class IngestLogCompaction(IngestLog log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        log.TrimAfterStop();
        return Task.CompletedTask;
    }
}
