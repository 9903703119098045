using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;

namespace AiOps.Server.Streaming;

/// <summary>Settings of the embedded mode's in-process stream queues (named options per provider).</summary>
public sealed class InProcessQueueOptions
{
    /// <summary>Number of queues (one pulling agent each).</summary>
    public int Queues { get; set; } = 8;

    /// <summary>Messages a queue holds before publishing fails (the publisher backs off and retries).</summary>
    public int MaxMessagesPerQueue { get; set; } = 50_000;

    /// <summary>
    /// A read of an empty queue waits this long for a message before it answers none; a message ends the wait at
    /// once. The pulling agent reads again a poll interval later (2 ms embedded): without the wait an idle server's
    /// eight agents woke 4,000 times a second. A silo's shutdown waits for a pending read at most this long.
    /// </summary>
    public TimeSpan EmptyReadWait { get; set; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>
/// Persistent-stream queues for the embedded (single-silo) mode that live in the silo's own memory.
/// Orleans' memory streams keep each queue in a grain, so every published batch is a grain call (and every poll
/// another); with one silo that round trip buys nothing. Here a publish is a serialization and a lock-free
/// enqueue, a poll is a dequeue. Pulling agents, the per-stream pooled cache, implicit subscriptions and delivery
/// are Orleans' own. Durability is that of memory streams: none beyond the process (README, "What a crash loses").
/// </summary>
public sealed class InProcessQueueAdapterFactory : IQueueAdapterFactory, IQueueAdapter, IQueueAdapterCache
{
    private readonly ConcurrentDictionary<QueueId, InProcessQueue> _queues = new();
    private readonly IStreamQueueMapper _mapper;
    private readonly Serializer _serializer;
    private readonly InProcessQueueOptions _options;
    private readonly StreamCacheEvictionOptions _eviction;
    private readonly IObjectPool<FixedSizeBuffer> _bufferPool;
    private readonly ILoggerFactory _loggerFactory;
    private readonly LoggingStreamFailureHandler _failureHandler;

    public InProcessQueueAdapterFactory(string name, InProcessQueueOptions options, StreamCacheEvictionOptions eviction,
        Serializer serializer, ILoggerFactory loggerFactory, LoggingStreamFailureHandler? failureHandler = null)
    {
        Name = name;
        _options = options;
        _eviction = eviction;
        _serializer = serializer;
        _loggerFactory = loggerFactory;
        _mapper = new HashRingBasedStreamQueueMapper(new HashRingStreamQueueMapperOptions { TotalQueueCount = options.Queues }, name);
        _bufferPool = new ObjectPool<FixedSizeBuffer>(() => new FixedSizeBuffer(1 << 20));
        _failureHandler = failureHandler ?? new LoggingStreamFailureHandler(loggerFactory.CreateLogger<LoggingStreamFailureHandler>());
    }

    /// <summary>Factory for <c>AddPersistentStreams</c>.</summary>
    public static InProcessQueueAdapterFactory Create(IServiceProvider services, string name)
    {
        var factory = new InProcessQueueAdapterFactory(
            name,
            services.GetRequiredService<IOptionsMonitor<InProcessQueueOptions>>().Get(name),
            services.GetRequiredService<IOptionsMonitor<StreamCacheEvictionOptions>>().Get(name),
            services.GetRequiredService<Serializer>(),
            services.GetRequiredService<ILoggerFactory>(),
            services.GetService<LoggingStreamFailureHandler>());
        services.GetService<Hosting.AiOpsMetrics>()?.ObserveSkippedStreamBatches(factory._failureHandler);
        factory.Progress = services.GetService<AiOps.Grains.Entities.IngestionProgress>();
        return factory;
    }

    public string Name { get; }

    public bool IsRewindable => true;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadWrite;

    public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(this);

    public IQueueAdapterCache GetQueueAdapterCache() => this;

    public IStreamQueueMapper GetStreamQueueMapper() => _mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) => Task.FromResult<IStreamFailureHandler>(_failureHandler);

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId) => new Receiver(Queue(queueId), _options.EmptyReadWait);

    public IQueueCache CreateQueueCache(QueueId queueId) => new InProcessQueueCache(
        _bufferPool,
        new TimePurgePredicate(_eviction.DataMinTimeInCache, _eviction.DataMaxAgeInCache),
        _loggerFactory.CreateLogger($"{typeof(InProcessQueueCache).FullName}.{Name}.{queueId}"),
        _serializer,
        _eviction.MetadataMinTimeInCache,
        Progress);

    /// <summary>Set by <see cref="Create"/>: skipped batches count as taken off the streams.</summary>
    internal AiOps.Grains.Entities.IngestionProgress? Progress { get; set; }

    public Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        var queue = Queue(_mapper.GetQueueForStream(streamId));
        var payload = _serializer.SerializeToArray(events.Cast<object>().ToArray());
        if (!queue.TryEnqueue(streamId, payload, _options.MaxMessagesPerQueue))
            return Task.FromException(new InvalidOperationException($"Stream queue {queue.Id} holds {_options.MaxMessagesPerQueue} messages; retry shortly."));
        return Task.CompletedTask;
    }

    private InProcessQueue Queue(QueueId id) => _queues.GetOrAdd(id, static i => new InProcessQueue(i));

    /// <summary>A queued message: the serialized events of one publish to one stream.</summary>
    internal sealed class QueuedMessage(StreamId streamId, long sequenceNumber, DateTime enqueuedUtc, byte[] payload) : IBatchContainer
    {
        public StreamId StreamId { get; } = streamId;
        public long SequenceNumber { get; } = sequenceNumber;
        public DateTime EnqueuedUtc { get; } = enqueuedUtc;
        public byte[] Payload { get; } = payload;
        public StreamSequenceToken SequenceToken => new EventSequenceTokenV2(SequenceNumber);

        // Only the cache reads queued messages (it copies the payload); delivery uses InProcessBatchContainer.
        public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() => throw new NotSupportedException("Queued messages are delivered from the cache.");
        public bool ImportRequestContext() => false;
    }

    private sealed class InProcessQueue(QueueId id)
    {
        private readonly ConcurrentQueue<QueuedMessage> _messages = new();
        private readonly object _sequenceGate = new();
        private long _sequence = DateTime.UtcNow.Ticks;
        private int _count;
        private TaskCompletionSource? _waiter;

        public QueueId Id => id;
        public int Count => Volatile.Read(ref _count);

        public bool TryEnqueue(StreamId streamId, byte[] payload, int max)
        {
            if (Interlocked.Increment(ref _count) > max)
            {
                Interlocked.Decrement(ref _count);
                return false;
            }
            // Sequence numbers must follow the queue order: assign and enqueue under one short lock.
            lock (_sequenceGate) _messages.Enqueue(new QueuedMessage(streamId, _sequence++, DateTime.UtcNow, payload));
            // The increment above is a full fence, as is the waiter's exchange before it reads the count: either the
            // waiter sees this message counted, or this sees the waiter.
            if (Volatile.Read(ref _waiter) is { } waiter && Interlocked.CompareExchange(ref _waiter, null, waiter) == waiter)
                waiter.TrySetResult();
            return true;
        }

        /// <summary>Completes (never faults) when a message is enqueued, after <paramref name="longest"/>, or on cancellation.</summary>
        public Task WaitForMessagesAsync(TimeSpan longest, CancellationToken cancellationToken)
        {
            if (Count > 0) return Task.CompletedTask;
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _waiter, waiter);
            if (Count > 0)
            {
                Interlocked.CompareExchange(ref _waiter, null, waiter);
                return Task.CompletedTask;
            }
            return Task.WhenAny(waiter.Task, Task.Delay(longest, cancellationToken));
        }

        public IList<IBatchContainer> Dequeue(int maxCount)
        {
            if (Count == 0) return [];
            var list = new List<IBatchContainer>(Math.Min(maxCount, Count));
            while (list.Count < maxCount && _messages.TryDequeue(out var message))
            {
                Interlocked.Decrement(ref _count);
                list.Add(message);
            }
            return list;
        }
    }

    private sealed class Receiver(InProcessQueue queue, TimeSpan emptyReadWait) : IQueueAdapterReceiver
    {
        private volatile bool _shutdown;

        public Task Initialize(TimeSpan timeout) => Task.CompletedTask;

        public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);

        /// <summary>The pulling agent cancels <paramref name="cancellationToken"/> when it stops: the wait ends then.</summary>
        public async Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken)
        {
            var max = maxCount < 0 ? int.MaxValue : maxCount;
            var messages = queue.Dequeue(max);
            if (messages.Count > 0 || _shutdown || cancellationToken.IsCancellationRequested) return messages;
            await queue.WaitForMessagesAsync(emptyReadWait, cancellationToken);
            return queue.Dequeue(max);
        }

        public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => Task.CompletedTask;

        public Task Shutdown(TimeSpan timeout)
        {
            _shutdown = true;
            return Task.CompletedTask;
        }
    }
}
