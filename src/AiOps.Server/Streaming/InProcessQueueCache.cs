using AiOps.Abstractions;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;

namespace AiOps.Server.Streaming;

/// <summary>
/// The pulling agent's cache for one in-process queue: Orleans' <see cref="PooledQueueCache"/> (per-stream
/// cursors, purge by age) over payloads copied into pooled 1 MiB blocks, evicted oldest block first.
/// </summary>
internal sealed class InProcessQueueCache : IQueueCache, ICacheDataAdapter
{
    private readonly IObjectPool<FixedSizeBuffer> _pool;
    private readonly Serializer _serializer;
    private readonly PooledQueueCache _cache;
    private readonly ChronologicalEvictionStrategy _eviction;
    private FixedSizeBuffer? _block;

    private readonly AiOps.Grains.Entities.IngestionProgress? _progress;

    public InProcessQueueCache(IObjectPool<FixedSizeBuffer> pool, TimePurgePredicate purge, ILogger logger, Serializer serializer, TimeSpan? purgeMetadataInterval,
        AiOps.Grains.Entities.IngestionProgress? progress = null)
    {
        _progress = progress;
        _pool = pool;
        _serializer = serializer;
        _cache = new PooledQueueCache(this, logger, null, null, purgeMetadataInterval);
        _eviction = new ChronologicalEvictionStrategy(logger, purge, null, null) { PurgeObservable = _cache };
    }

    public int GetMaxAddCount() => 1000;

    public void AddToCache(IList<IBatchContainer> messages)
    {
        var now = DateTime.UtcNow;
        var cached = new List<CachedMessage>(messages.Count);
        foreach (var container in messages)
        {
            var m = (InProcessQueueAdapterFactory.QueuedMessage)container;
            cached.Add(new CachedMessage
            {
                StreamId = m.StreamId,
                SequenceNumber = m.SequenceNumber,
                EnqueueTimeUtc = m.EnqueuedUtc,
                DequeueTimeUtc = now,
                Segment = Copy(m.Payload),
            });
        }
        _cache.Add(cached, now);
    }

    /// <summary>Copies a payload into the current pooled block (a new block when it is full).</summary>
    private ArraySegment<byte> Copy(byte[] payload)
    {
        if (_block is null || !_block.TryGetSegment(payload.Length, out var segment))
        {
            var block = _pool.Allocate();
            if (!block.TryGetSegment(payload.Length, out segment))
            {
                block.Dispose();
                throw new ArgumentOutOfRangeException(nameof(payload), $"A stream message of {payload.Length} bytes does not fit a cache block.");
            }
            _block = block;
            _eviction.OnBlockAllocated(block);
        }
        payload.CopyTo(segment.AsSpan());
        return segment;
    }

    public bool TryPurgeFromCache(out IList<IBatchContainer> purgedItems)
    {
        purgedItems = null!;
        _eviction.PerformPurge(DateTime.UtcNow);
        return false;
    }

    public IQueueCacheCursor GetCacheCursor(StreamId streamId, StreamSequenceToken? token) => new Cursor(_cache, streamId, token, _progress);

    public bool IsUnderPressure() => false;

    public IBatchContainer GetBatchContainer(ref CachedMessage cachedMessage) => new InProcessBatchContainer
    {
        StreamId = cachedMessage.StreamId,
        SequenceNumber = cachedMessage.SequenceNumber,
        Events = _serializer.Deserialize<object[]>(cachedMessage.Segment.AsSpan()) ?? [],
    };

    public StreamSequenceToken GetSequenceToken(ref CachedMessage cachedMessage) => new EventSequenceTokenV2(cachedMessage.SequenceNumber);

    // The cursor calls below are the ones Orleans' own memory-stream cache uses in 10.4 (marked obsolete in favour
    // of result-returning variants; they throw QueueCacheMissException on a miss, which the pulling agent handles).
#pragma warning disable CS0618
    private sealed class Cursor(PooledQueueCache cache, StreamId streamId, StreamSequenceToken? token, AiOps.Grains.Entities.IngestionProgress? progress) : IQueueCacheCursor
    {
        private readonly object _position = cache.GetCursor(streamId, token);
        private IBatchContainer? _current;
        private IBatchContainer? _givenUp;

        public IBatchContainer GetCurrent(out Exception exception)
        {
            exception = null!;
            return _current!;
        }

        public bool MoveNext()
        {
            if (!cache.TryGetNextMessage(_position, out var next)) return false;
            _current = next;
            return true;
        }

        public void Refresh(StreamSequenceToken token) { }

        // The pulling agent gives the current batch up (its retries ran out): its events are off the stream without
        // reaching the entity, which is told by the next batch or asked later, and gets them from the ingest log. They
        // count as taken off the stream, so that the backlog (and the drain at a graceful stop) does not wait for them.
        public void RecordDeliveryFailure()
        {
            if (progress is null || _current is not InProcessBatchContainer batch || ReferenceEquals(batch, _givenUp)) return;
            _givenUp = batch;
            foreach (var e in batch.Events)
                if (e is TelemetryBatch t) progress.OnConsumed(t.Count, 0);
        }

        public void Dispose() { }
    }
#pragma warning restore CS0618
}

/// <summary>The events of one publish to one stream, as delivered to the consumer grain (immutable: local calls pass it without a copy).</summary>
[GenerateSerializer, Immutable, Alias("aiops.InProcessBatch")]
public sealed class InProcessBatchContainer : IBatchContainer
{
    [Id(0)] public StreamId StreamId { get; init; }
    [Id(1)] public long SequenceNumber { get; init; }
    [Id(2)] public object[] Events { get; init; } = [];

    public StreamSequenceToken SequenceToken => new EventSequenceTokenV2(SequenceNumber);

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>()
    {
        for (var i = 0; i < Events.Length; i++)
            if (Events[i] is T e) yield return Tuple.Create(e, (StreamSequenceToken)new EventSequenceTokenV2(SequenceNumber, i));
    }

    public bool ImportRequestContext() => false;
}
