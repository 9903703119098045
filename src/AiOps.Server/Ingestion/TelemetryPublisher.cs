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
    ILogger<TelemetryPublisher> logger) : BackgroundService
{
    private readonly IngestionOptions _options = options.Value;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private Dictionary<(EntityKind Kind, string Id), List<TelemetryPoint>> _buffer = [];
    private TaskCompletionSource _flush = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _buffered;
    private int _inFlight;
    private IStreamProvider? _provider;

    /// <summary>Events accepted but not yet handed to the streams.</summary>
    public int Pending => Volatile.Read(ref _buffered) + Volatile.Read(ref _inFlight);

    public Task PublishAsync(ParsedBatch batch)
    {
        Task done;
        lock (_gate)
        {
            if (_buffered + _inFlight + batch.Accepted > _options.MaxPendingEvents)
                throw new IngestionBusyException($"{_buffered + _inFlight} events are waiting to be published; retry shortly.");
            foreach (var (key, points) in batch.ByEntity)
            {
                if (_buffer.TryGetValue(key, out var list)) list.AddRange(points);
                else _buffer.Add(key, points);
            }
            _buffered += batch.Accepted;
            done = _flush.Task;
            if (_buffered >= _options.FlushAtEvents && _wake.CurrentCount == 0)
            {
                try { _wake.Release(); } catch (SemaphoreFullException) { }
            }
        }
        return done;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _provider = client.GetStreamProvider(StreamNames.Provider);
        var lastFlush = DateTime.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(_options.MinFlushDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            // Adaptive group commit: flush as soon as doing so keeps the stream message rate within budget
            // (quiet periods get the lowest latency), else wait up to MaxFlushDelay so each entity's batch
            // carries more events (under load the per-message cost dominates, not the per-event cost).
            int entities, buffered;
            lock (_gate) { entities = _buffer.Count; buffered = _buffered; }
            if (buffered == 0) { lastFlush = DateTime.UtcNow; continue; }
            var since = DateTime.UtcNow - lastFlush;
            var rate = entities / Math.Max(since.TotalSeconds, 1e-3);
            if (rate > _options.StreamMessagesPerSecondBudget && since < _options.MaxFlushDelay && buffered < _options.FlushAtEvents)
                continue;
            lastFlush = DateTime.UtcNow;
            await FlushOnceAsync();
        }
        // Drain what was accepted before the shutdown began.
        await FlushOnceAsync();
    }

    private async Task FlushOnceAsync()
    {
        Dictionary<(EntityKind Kind, string Id), List<TelemetryPoint>> buffer;
        TaskCompletionSource flush;
        int count;
        lock (_gate)
        {
            if (_buffered == 0) return;
            buffer = _buffer;
            flush = _flush;
            count = _buffered;
            _buffer = new Dictionary<(EntityKind, string), List<TelemetryPoint>>(buffer.Count);
            _flush = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _buffered = 0;
            _inFlight += count;
        }

        try
        {
            progress.OnPublished(count); // before the first delivery can be counted as consumed
            var tasks = new List<Task>(buffer.Count);
            var publishedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var ((kind, id), points) in buffer)
            {
                tasks.Add(PublishEntityAsync(kind, id, TelemetryBatch.Create(kind, points, publishedAt)));
            }
            await Task.WhenAll(tasks);
            metrics.Published(count, buffer.Count);
            flush.TrySetResult();
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Publishing {Count} events to {Entities} entity streams failed", count, buffer.Count);
            flush.TrySetException(new IngestionBusyException("The telemetry streams did not accept the batch; retry (events carrying ids are deduplicated)."));
        }
        finally
        {
            lock (_gate) _inFlight -= count;
        }
    }

    private async Task PublishEntityAsync(EntityKind kind, string id, TelemetryBatch batch)
    {
        if (_options.DirectGrainCalls)
        {
            await client.GetEntity(kind, id).ApplyAsync(batch);
            return;
        }
        var stream = _provider!.GetStream<TelemetryBatch>(StreamId.Create(StreamNames.NamespaceFor(kind), id));
        var delay = TimeSpan.FromMilliseconds(20);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await stream.OnNextAsync(batch);
                return;
            }
            catch (Exception ex) when (attempt < _options.PublishAttempts)
            {
                // A full memory queue or a database hiccup: back off and try the same batch (same id) again.
                logger.LogDebug(ex, "Publish to {Kind}/{Id} failed (attempt {Attempt})", kind, id, attempt);
                await Task.Delay(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }
}
