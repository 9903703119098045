using Orleans.Runtime;
using Orleans.Streams;

namespace AiOps.Server.Streaming;

/// <summary>
/// What the pulling agents call when a batch could not be delivered to its entity after Orleans' retries. The stream
/// then skips the batch; its events are still in the ingest log, and the entity gets them from there: the next batch
/// names the log position sent before it, which the entity does not hold, so it refuses that batch and asks for
/// everything after what it holds; with no next batch, the periodic check of entities behind what was sent to them
/// asks (README "Durability"). This handler logs an error naming the stream and counts the skips
/// (<c>aiops_telemetry_stream_batches_skipped_total</c>); Orleans' no-op handler skipped in silence.
/// </summary>
public sealed class LoggingStreamFailureHandler(ILogger logger) : IStreamFailureHandler
{
    private long _deliveryFailures;

    /// <summary>Batches skipped after failed delivery since the process started.</summary>
    public long DeliveryFailures => Interlocked.Read(ref _deliveryFailures);

    private static long s_total;

    /// <summary>Diagnostics (benchmarks): batches skipped by every handler in the process.</summary>
    public static long Total => Interlocked.Read(ref s_total);

    // Faulting the subscription would stop the entity's implicit subscription for good; the next batches still deliver.
    public bool ShouldFaultSubsriptionOnError => false;

    public Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        Interlocked.Increment(ref _deliveryFailures);
        Interlocked.Increment(ref s_total);
        logger.LogError("A telemetry batch for stream {Stream} (provider {Provider}, token {Token}) was not delivered after retries and is skipped by the stream: its events are delivered again from the ingest log",
            streamIdentity, streamProviderName, sequenceToken);
        return Task.CompletedTask;
    }

    public Task OnSubscriptionFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        logger.LogError("Subscription {Subscription} to stream {Stream} (provider {Provider}) failed at token {Token}",
            subscriptionId, streamIdentity, streamProviderName, sequenceToken);
        return Task.CompletedTask;
    }
}
