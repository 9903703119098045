using System.Text;
using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace AiOps.Grains.Alerts;

public sealed class WebhookOutboxState
{
    public List<PendingDelivery> Pending { get; set; } = [];
    /// <summary>Delivery ids recently completed (bounded), so a re-sent enqueue does not deliver twice.</summary>
    public List<string> RecentlyDone { get; set; } = [];
    public long Delivered { get; set; }
    public long GivenUp { get; set; }
}

public sealed class PendingDelivery
{
    public WebhookDelivery Delivery { get; set; } = null!;
    public int Attempts { get; set; }
    public DateTime NextAttemptAt { get; set; }
}

/// <summary>
/// The persisted outbox of one subscription. <see cref="EnqueueAsync"/> returns only after the deliveries are
/// written, so nothing accepted is lost on restart; the outbox drains itself (up to
/// <see cref="WebhookOptions.Concurrency"/> requests at a time) and retries failures with exponential backoff
/// and jitter. A keep-alive timer holds the activation while anything is pending; the maintenance service
/// wakes every outbox at startup and periodically. Reentrant: enqueues are not blocked behind slow receivers.
/// </summary>
[Reentrant]
[GrainType("webhookoutbox")]
public sealed class WebhookOutboxGrain(
    [PersistentState("webhookoutbox", StorageNames.Entities)] IPersistentState<WebhookOutboxState> state,
    IOptions<AlertingOptions> options,
    IWebhookTransport transport,
    AlertingMetrics metrics,
    TimeProvider time,
    ILogger<WebhookOutboxGrain> logger)
    : Grain, IWebhookOutboxGrain
{
    private const int RecentlyDoneCapacity = 2_000;
    private readonly WebhookOptions _options = options.Value.Webhooks;
    private readonly Dictionary<string, PendingDelivery> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private readonly HashSet<string> _recentlyDone = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();
    private IGrainTimer? _timer;
    private WebhookSubscription? _subscription;
    private bool _pumping;
    private bool _pumpAgain;
    private Task _lastWrite = Task.CompletedTask;
    private QueuedWrite? _nextWrite;

    private DateTime Now => time.GetUtcNow().UtcDateTime;
    private string SubscriptionId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var p in state.State.Pending) _pending[p.Delivery.DeliveryId] = p;
        foreach (var id in state.State.RecentlyDone) RememberDone(id);
        _timer = this.RegisterGrainTimer(_ => PumpAsync(),
            new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { KeepAlive = true, Interleave = true });
        if (_pending.Count > 0) _timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        try
        {
            await PersistAsync();
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not save webhook outbox {Subscription} on deactivation", SubscriptionId);
        }
    }

    public async Task EnqueueAsync(WebhookDelivery[] deliveries)
    {
        var added = 0;
        foreach (var d in deliveries)
        {
            if (_pending.ContainsKey(d.DeliveryId) || _recentlyDone.Contains(d.DeliveryId)) continue;
            _pending[d.DeliveryId] = new PendingDelivery { Delivery = d, NextAttemptAt = d.CreatedAt };
            added++;
        }
        if (added == 0) return;
        while (_pending.Count > _options.MaxPendingPerSubscription)
        {
            var oldest = _pending.Values.Where(p => !_inFlight.Contains(p.Delivery.DeliveryId)).MinBy(p => p.Delivery.CreatedAt);
            if (oldest is null) break;
            Finish(oldest, delivered: false, new WebhookSendResult(null, "outbox full: oldest delivery dropped", 0));
        }
        await PersistAsync();
        PumpAsync().Ignore();
    }

    public Task<OutboxStatus> GetStatusAsync() => Task.FromResult(new OutboxStatus(
        _pending.Count, state.State.Delivered, state.State.GivenUp,
        _pending.Count == 0 ? null : _pending.Values.Min(p => p.NextAttemptAt)));

    public Task WakeAsync()
    {
        if (_pending.Count > 0 && !_pumping) PumpAsync().Ignore();
        return Task.CompletedTask;
    }

    public async Task PurgeAsync()
    {
        _subscription = null;
        _pending.Clear();
        await PersistAsync();
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    // ---- draining ----------------------------------------------------------------------------------

    private async Task PumpAsync()
    {
        if (_pumping)
        {
            _pumpAgain = true;
            return;
        }
        _pumping = true;
        try
        {
            if (_pending.Count == 0) return;
            _subscription ??= await GrainFactory.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).GetSubscriptionAsync(SubscriptionId);
            if (_subscription is null)
            {
                logger.LogWarning("Webhook subscription {Subscription} no longer exists: dropping {Count} pending deliveries", SubscriptionId, _pending.Count);
                _pending.Clear();
                await PersistAsync();
                return;
            }
            while (true)
            {
                _pumpAgain = false;
                var now = Now;
                var due = _pending.Values
                    .Where(p => p.NextAttemptAt <= now && !_inFlight.Contains(p.Delivery.DeliveryId))
                    .OrderBy(p => p.NextAttemptAt)
                    .Take(Math.Max(1, _options.Concurrency))
                    .ToList();
                if (due.Count == 0)
                {
                    if (_pumpAgain) continue;
                    break;
                }
                var results = await Task.WhenAll(due.Select(p => SendAsync(_subscription, p)));
                for (var i = 0; i < due.Count; i++) Complete(due[i], results[i]);
                await PersistAsync();
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Webhook outbox {Subscription} failed while draining; retrying shortly", SubscriptionId);
            _timer?.Change(_options.RetryBase, Timeout.InfiniteTimeSpan);
            _pumping = false;
            return;
        }
        finally
        {
            _pumping = false;
        }
        ScheduleNext();
    }

    private async Task<WebhookSendResult> SendAsync(WebhookSubscription subscription, PendingDelivery p)
    {
        var d = p.Delivery;
        _inFlight.Add(d.DeliveryId);
        try
        {
            var body = Encoding.UTF8.GetBytes(d.Body);
            var headers = new List<KeyValuePair<string, string>>
            {
                new(WebhookPayload.SignatureHeader, WebhookPayload.Sign(subscription.Secret, body)),
                new(WebhookPayload.DeliveryHeader, d.DeliveryId),
                new(WebhookPayload.TimestampHeader, time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new(WebhookPayload.EventHeader, WebhookPayload.EventName(d.EventType)),
            };
            using var timeout = new CancellationTokenSource(_options.Timeout + TimeSpan.FromSeconds(1));
            return await transport.SendAsync(subscription.Url, d.Body, headers, timeout.Token);
        }
        catch (Exception ex)
        {
            return new WebhookSendResult(null, ex.GetType().Name + ": " + ex.Message, 0);
        }
        finally
        {
            _inFlight.Remove(d.DeliveryId);
        }
    }

    private void Complete(PendingDelivery p, WebhookSendResult result)
    {
        if (!_pending.ContainsKey(p.Delivery.DeliveryId)) return; // purged meanwhile
        p.Attempts++;
        if (result.Delivered)
        {
            metrics.NotificationSent();
            Finish(p, delivered: true, result);
            return;
        }
        metrics.NotificationFailed();
        var now = Now;
        if (p.Attempts >= _options.MaxAttempts || now - p.Delivery.CreatedAt >= _options.GiveUpAfter)
        {
            Finish(p, delivered: false, result);
            return;
        }
        p.NextAttemptAt = now + Backoff(p.Attempts);
        Report(p, "failed", result, p.NextAttemptAt);
    }

    private void Finish(PendingDelivery p, bool delivered, WebhookSendResult result)
    {
        _pending.Remove(p.Delivery.DeliveryId);
        RememberDone(p.Delivery.DeliveryId);
        if (delivered) state.State.Delivered++;
        else
        {
            state.State.GivenUp++;
            metrics.NotificationGivenUp();
        }
        Report(p, delivered ? "delivered" : "gave-up", result, null);
    }

    private void Report(PendingDelivery p, string outcome, WebhookSendResult result, DateTime? next)
    {
        var d = p.Delivery;
        var attempt = new DeliveryAttempt
        {
            DeliveryId = d.DeliveryId,
            SubscriptionId = SubscriptionId,
            EventId = d.EventId,
            EventType = d.EventType,
            Attempt = p.Attempts,
            At = Now,
            Outcome = outcome,
            StatusCode = result.StatusCode,
            Error = result.Error,
            ElapsedMs = Math.Round(result.ElapsedMs, 1),
            NextAttemptAt = next,
        };
        GrainFactory.GetGrain<IAlertKeyGrain>(d.AlertKey).RecordDeliveryAsync(d.AlertId, attempt).Ignore();
    }

    /// <summary>RetryBase · 2^(attempt-1), capped at RetryMax, times a jitter factor in [0.8, 1.2).</summary>
    private TimeSpan Backoff(int attempts)
    {
        var exp = Math.Min(30, attempts - 1);
        var ms = Math.Min(_options.RetryMax.TotalMilliseconds, _options.RetryBase.TotalMilliseconds * Math.Pow(2, exp));
        return TimeSpan.FromMilliseconds(ms * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }

    private void ScheduleNext()
    {
        if (_timer is null) return;
        var waiting = _pending.Values.Where(p => !_inFlight.Contains(p.Delivery.DeliveryId)).ToList();
        if (waiting.Count == 0)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var delay = waiting.Min(p => p.NextAttemptAt) - Now;
        _timer.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
    }

    private void RememberDone(string id)
    {
        if (!_recentlyDone.Add(id)) return;
        _recentOrder.Enqueue(id);
        while (_recentOrder.Count > RecentlyDoneCapacity) _recentlyDone.Remove(_recentOrder.Dequeue());
    }

    // ---- persistence: writes are serialised (reentrant grain); a write not yet started absorbs later changes ----

    private sealed class QueuedWrite
    {
        public bool Started;
    }

    private Task PersistAsync()
    {
        if (_nextWrite is { Started: false }) return _lastWrite;
        var write = new QueuedWrite();
        _nextWrite = write;
        _lastWrite = WriteAfterAsync(_lastWrite, write);
        return _lastWrite;
    }

    private async Task WriteAfterAsync(Task previous, QueuedWrite write)
    {
        try
        {
            await previous;
        }
        catch
        {
            // The previous write's caller saw its failure; this write carries the same changes.
        }
        write.Started = true;
        // Fresh copies: later turns may change the working set while the provider serialises this snapshot.
        state.State.Pending = _pending.Values.ToList();
        state.State.RecentlyDone = _recentOrder.ToList();
        await state.WriteStateAsync();
    }
}
