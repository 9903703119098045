using Orleans.Concurrency;

namespace AiOps.Abstractions.Alerts;

/// <summary>
/// Owns the lifecycle of the alerts of one <see cref="AlertKey"/> (key: <see cref="AlertKey.ToString"/>):
/// dedupe, re-trigger counting, severity, auto-resolve, operator actions, history, delivery log.
/// At most one active (open/acknowledged) alert per key; a bounded archive of resolved ones.
/// </summary>
[Alias("aiops.IAlertKeyGrain")]
public interface IAlertKeyGrain : IGrainWithStringKey
{
    /// <summary>Applies signals in order (awaited by the ingress, which batches while a call is in flight).</summary>
    [Alias("Signal")]
    Task SignalAsync(AlertSignal[] signals);

    /// <summary>Opens a synthetic alert marked as a test (goes through severity, silences, SSE and webhooks).</summary>
    [Alias("FireTest")]
    Task<AlertDetail> FireTestAsync(AlertSignal signal);

    [Alias("Get")]
    Task<AlertDetail?> GetAsync(string alertId);

    [Alias("Acknowledge")]
    Task<AlertActionResult> AcknowledgeAsync(string alertId, string actor, string? reason);

    [Alias("Resolve")]
    Task<AlertActionResult> ResolveAsync(string alertId, string actor, string? reason);

    [Alias("Comment")]
    Task<AlertActionResult> CommentAsync(string alertId, string actor, string text);

    /// <summary>A webhook outbox reports an attempt (appended to the alert's delivery log).</summary>
    [OneWay, Alias("RecordDelivery")]
    Task RecordDeliveryAsync(string alertId, DeliveryAttempt attempt);

    /// <summary>Activates the grain so that pending auto-resolve timers run (after a restart).</summary>
    [Alias("Wake")]
    Task WakeAsync();
}

/// <summary>Headers of all active alerts and the newest resolved ones, for listing and id lookup. Key: "default".</summary>
[Alias("aiops.IAlertIndexGrain")]
public interface IAlertIndexGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    [Alias("Upsert")]
    Task UpsertAsync(AlertHeader[] headers);

    [Alias("Find")]
    Task<AlertHeader?> FindAsync(string alertId);

    [Alias("Query")]
    Task<AlertPage> QueryAsync(AlertQuery query);

    [Alias("OpenKeys")]
    Task<string[]> GetActiveKeysAsync();

    [Alias("OpenCounts")]
    Task<OpenAlertCount[]> GetActiveCountsAsync();
}

/// <summary>Silences and webhook subscriptions; answers "is this silenced, who gets it?". Key: "default".</summary>
[Alias("aiops.IAlertRoutingGrain")]
public interface IAlertRoutingGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    [ReadOnly, Alias("Route")]
    Task<AlertRoute> RouteAsync(AlertHeader alert);

    [Alias("AddSilence")]
    Task<Silence> AddSilenceAsync(Silence silence);

    [ReadOnly, Alias("ListSilences")]
    Task<Silence[]> ListSilencesAsync();

    /// <summary>Ends a silence now; null if unknown. Already-ended silences are returned unchanged.</summary>
    [Alias("EndSilence")]
    Task<Silence?> EndSilenceAsync(string id, string actor);

    /// <summary>Adds a subscription; null when the limit is reached.</summary>
    [Alias("AddSubscription")]
    Task<WebhookSubscription?> AddSubscriptionAsync(WebhookSubscription subscription, int maxSubscriptions);

    [ReadOnly, Alias("ListSubscriptions")]
    Task<WebhookSubscription[]> ListSubscriptionsAsync();

    [ReadOnly, Alias("GetSubscription")]
    Task<WebhookSubscription?> GetSubscriptionAsync(string id);

    [Alias("RemoveSubscription")]
    Task<bool> RemoveSubscriptionAsync(string id);
}

/// <summary>A webhook delivery waiting in a subscription's outbox.</summary>
[GenerateSerializer, Immutable, Alias("aiops.WebhookDelivery")]
public sealed record WebhookDelivery
{
    /// <summary>Stable across retries (receivers dedupe on it): <c>{eventId}.{subscriptionId}</c>.</summary>
    [Id(0)] public required string DeliveryId { get; init; }
    [Id(1)] public required string AlertId { get; init; }
    [Id(2)] public required string AlertKey { get; init; }
    [Id(3)] public required string EventId { get; init; }
    [Id(4)] public required AlertEventType EventType { get; init; }
    /// <summary>The exact JSON body; signed as is.</summary>
    [Id(5)] public required string Body { get; init; }
    [Id(6)] public required DateTime CreatedAt { get; init; }
}

[GenerateSerializer, Immutable, Alias("aiops.OutboxStatus")]
public sealed record OutboxStatus(
    [property: Id(0)] int Pending,
    [property: Id(1)] long Delivered,
    [property: Id(2)] long GivenUp,
    [property: Id(3)] DateTime? NextAttemptAt);

/// <summary>Persisted outbox of one webhook subscription (key: subscription id); drains itself with retries.</summary>
[Alias("aiops.IWebhookOutboxGrain")]
public interface IWebhookOutboxGrain : IGrainWithStringKey
{
    /// <summary>Returns once the deliveries are persisted.</summary>
    [Alias("Enqueue")]
    Task EnqueueAsync(WebhookDelivery[] deliveries);

    [Alias("Status")]
    Task<OutboxStatus> GetStatusAsync();

    /// <summary>Activates the outbox so that it resumes draining (startup, periodic maintenance).</summary>
    [Alias("Wake")]
    Task WakeAsync();

    /// <summary>The subscription was deleted: drop everything pending.</summary>
    [Alias("Purge")]
    Task PurgeAsync();
}

/// <summary>A silo's live alert feed, registered with <see cref="IAlertBroadcastGrain"/>.</summary>
[Alias("aiops.IAlertFeedObserver")]
public interface IAlertFeedObserver : IGrainObserver
{
    [OneWay, Alias("OnAlerts")]
    Task OnAlertsAsync(AlertFeedEvent[] events);
}

/// <summary>
/// The live feed of the silo a grain runs on, called in-process (no message): an alert reaches the SSE
/// clients of its own silo within the alert grain's turn; <see cref="IAlertBroadcastGrain"/> carries it to the others.
/// </summary>
public interface ILocalAlertFeed
{
    /// <summary>The silo whose feed this is.</summary>
    SiloAddress? Silo { get; }

    void Publish(AlertFeedEvent[] events);
}

/// <summary>Fans alert events out to every silo's feed (cluster-wide SSE). Key: "default".</summary>
[Alias("aiops.IAlertBroadcastGrain")]
public interface IAlertBroadcastGrain : IGrainWithStringKey
{
    public const string DefaultKey = "default";

    /// <summary>Sends the events to every registered feed except that of <paramref name="deliveredOn"/> (already told in-process).</summary>
    [OneWay, Alias("Publish")]
    Task PublishAsync(AlertFeedEvent[] events, SiloAddress? deliveredOn);

    /// <summary>Registers (or refreshes) the feed of <paramref name="silo"/>; registrations not refreshed within the lease are dropped.</summary>
    [Alias("Subscribe")]
    Task SubscribeAsync(IAlertFeedObserver observer, TimeSpan lease, SiloAddress? silo);

    [Alias("Unsubscribe")]
    Task UnsubscribeAsync(IAlertFeedObserver observer);
}
