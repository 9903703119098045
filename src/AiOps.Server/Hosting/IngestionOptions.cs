namespace AiOps.Server.Hosting;

/// <summary>When an ingestion request is answered.</summary>
public enum IngestionAck
{
    /// <summary>After its events were handed to the streams: with durable (ADO.NET) streams, written to the database.</summary>
    Published,

    /// <summary>
    /// As soon as its events are in the publisher's buffer (bounded by <see cref="IngestionOptions.MaxBufferedEvents"/>).
    /// With in-memory streams that is no weaker than <see cref="Published"/>: both are memory of this process.
    /// </summary>
    Buffered,

    /// <summary>
    /// Once its events are in the ingest log on disk (group commit: one write and fsync for whatever arrived during
    /// the previous one). Survives a crash of the process: the log is replayed at start, and entity grains skip what
    /// their saved state already covers. The embedded default.
    /// </summary>
    Logged,
}

/// <summary>Ingestion tuning (configuration section <c>AiOps:Ingestion</c>).</summary>
public sealed class IngestionOptions
{
    public const string Section = "AiOps:Ingestion";

    /// <summary>
    /// When a request is answered. Default: <see cref="IngestionAck.Logged"/> in embedded mode (the local ingest log),
    /// <see cref="IngestionAck.Published"/> in cluster mode (durable streams: an answered event is in PostgreSQL).
    /// </summary>
    public IngestionAck? Acknowledge { get; set; }

    /// <summary>With <see cref="IngestionAck.Buffered"/>: a request that would take the buffer past this many events waits for room.</summary>
    public int MaxBufferedEvents { get; set; } = 200_000;

    /// <summary>With <see cref="IngestionAck.Buffered"/>: how long a request waits for room before it gets 503.</summary>
    public TimeSpan BufferWaitTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <see cref="MaxFlushDelay"/> when requests are answered from the buffer: nobody waits for the flush then, so
    /// under load it can gather more events per entity message.
    /// </summary>
    public TimeSpan BufferedMaxFlushDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the publisher looks at its buffer; the shortest time an event waits.</summary>
    public TimeSpan MinFlushDelay { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Longest time an accepted event waits before it is published to its entity's stream (requests answered after publishing; see <see cref="BufferedMaxFlushDelay"/>).</summary>
    public TimeSpan MaxFlushDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Flush before <see cref="MaxFlushDelay"/> only while per-entity stream messages stay under this rate:
    /// each message has a fixed cost (two grain calls and a serialization round trip) whatever it carries.
    /// </summary>
    public double StreamMessagesPerSecondBudget { get; set; } = 10_000;

    /// <summary>
    /// A request of at most this many events is published at once, without waiting for the next flush, when
    /// none of its entities has events waiting or being flushed and none was published this way since the last
    /// flush (Nagle's rule: small writes with nothing outstanding go out immediately). Such a request costs no
    /// more stream messages than the flush would: at most one extra per entity and flush window. 0 turns it off.
    /// </summary>
    public int ImmediatePublishMaxEvents { get; set; } = 16;

    /// <summary>Publish early once this many events are buffered.</summary>
    public int FlushAtEvents { get; set; } = 150_000;

    /// <summary>Above this many buffered or in-flight events, new requests get 503 (back-pressure).</summary>
    public int MaxPendingEvents { get; set; } = 1_000_000;

    /// <summary>Diagnostics only: call the entity grains directly instead of publishing to their streams (measures the streams' share of the cost).</summary>
    public bool DirectGrainCalls { get; set; }

    /// <summary>Attempts to publish one entity batch before the flush fails.</summary>
    public int PublishAttempts { get; set; } = 8;

    /// <summary>How often the ingest log drops the records that saved grain state covers.</summary>
    public TimeSpan LogTrimInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often entities whose logged points no save covers yet are looked at, and how old their last delivery must
    /// be: an entity that holds less than was sent to it then (a batch given up by the embedded stream and nothing
    /// after it, or an activation lost with its silo) is sent the missing points again from the ingest log.
    /// </summary>
    public TimeSpan QuietEntityCheckPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <inheritdoc cref="QuietEntityCheckPeriod"/>
    public TimeSpan QuietEntityAge { get; set; } = TimeSpan.FromSeconds(45);
}
