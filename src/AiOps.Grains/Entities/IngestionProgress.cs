namespace AiOps.Grains.Entities;

/// <summary>
/// Process-wide counters of telemetry handed to the streams and taken off them by entity grains. Their
/// difference is the stream backlog: a metric, and what a graceful shutdown waits to drain.
/// </summary>
public sealed class IngestionProgress
{
    private long _published;
    private long _consumed;
    private long _lagSumMs;
    private long _lagBatches;

    public long Published => Interlocked.Read(ref _published);
    public long Consumed => Interlocked.Read(ref _consumed);
    public long Backlog => Math.Max(0, Published - Consumed);

    public void OnPublished(long events) => Interlocked.Add(ref _published, events);

    public void OnConsumed(long events, long publishedAtMs)
    {
        Interlocked.Add(ref _consumed, events);
        if (publishedAtMs > 0)
        {
            Interlocked.Add(ref _lagSumMs, Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - publishedAtMs));
            Interlocked.Increment(ref _lagBatches);
        }
    }

    /// <summary>Mean publish-to-grain delay of the batches consumed since the last call, in milliseconds.</summary>
    public double? TakeMeanLagMs()
    {
        var n = Interlocked.Exchange(ref _lagBatches, 0);
        var sum = Interlocked.Exchange(ref _lagSumMs, 0);
        return n == 0 ? null : (double)sum / n;
    }
}
