using Orleans.Runtime;
using Orleans.Streams;

namespace AiOps.Server.Streaming;

/// <summary>
/// What the pulling agents call when a batch could not be delivered to its entity after Orleans' retries. The batch
/// is then skipped: its events stay in the ingest log, but the entity does not apply them, and a later batch can move
/// the entity's covered log position past them (a known gap of embedded mode, see README "Durability"). Orleans'
/// no-op handler skipped in silence; this one logs an error naming the stream and counts the skips, so that it is seen.
/// </summary>
public sealed class LoggingStreamFailureHandler(ILogger logger) : IStreamFailureHandler
{
    private long _deliveryFailures;

    /// <summary>Batches skipped after failed delivery since the process started.</summary>
    public long DeliveryFailures => Interlocked.Read(ref _deliveryFailures);

    // Faulting the subscription would stop the entity's implicit subscription for good; the next batches still deliver.
    public bool ShouldFaultSubsriptionOnError => false;

    public Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        Interlocked.Increment(ref _deliveryFailures);
        logger.LogError("A telemetry batch for stream {Stream} (provider {Provider}, token {Token}) was not delivered after retries and is skipped: its events are in the ingest log but not applied",
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
