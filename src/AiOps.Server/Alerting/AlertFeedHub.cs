using System.Collections.Concurrent;
using System.Threading.Channels;
using AiOps.Abstractions.Alerts;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Alerting;

/// <summary>What an SSE client asked to see. Null fields do not filter.</summary>
public sealed record AlertFeedFilter(AlertKind[]? Kinds, AlertSeverity? MinSeverity, Abstractions.EntityKind? EntityKind, string? EntityId, string? Metric)
{
    public bool Matches(AlertHeader a) =>
        (Kinds is not { Length: > 0 } || Kinds.Contains(a.Kind))
        && (MinSeverity is null || a.Severity >= MinSeverity)
        && (EntityKind is null || a.EntityKind == EntityKind)
        && (EntityId is null || Glob.IsMatch(EntityId, a.EntityId, ignoreCase: false))
        && (Metric is null || Glob.IsMatch(Metric, a.Metric, ignoreCase: false));
}

/// <summary>
/// This silo's live alert feed: an observer registered (by lease) with <see cref="IAlertBroadcastGrain"/>, a
/// small replay ring, and one bounded channel per SSE client. Events are pushed, never polled.
/// </summary>
public sealed class AlertFeedHub(IGrainFactory grains, IServiceProvider services, IOptions<AlertFeedOptions> options, ILogger<AlertFeedHub> logger)
    : BackgroundService, IAlertFeedObserver, ILocalAlertFeed
{
    private readonly AlertFeedOptions _options = options.Value;
    private readonly ConcurrentDictionary<long, Client> _clients = new();
    private readonly AlertFeedEvent[] _ring = new AlertFeedEvent[Math.Max(1, options.Value.ReplaySize)];
    private readonly Lock _ringLock = new();
    private long _ringCount;
    private long _nextClient;
    private IAlertFeedObserver? _reference;

    public int ClientCount => _clients.Count;

    /// <summary>This silo; null on an API-only front end (it gets every event through the broadcast grain).</summary>
    public SiloAddress? Silo => services.GetService<ILocalSiloDetails>()?.SiloAddress;

    /// <summary>True once the observer is registered with the broadcast grain.</summary>
    public bool Registered { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _reference = grains.CreateObjectReference<IAlertFeedObserver>(this);
        var broadcast = grains.GetGrain<IAlertBroadcastGrain>(IAlertBroadcastGrain.DefaultKey);
        var renew = _options.Lease / 3;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await broadcast.SubscribeAsync(_reference, _options.Lease, Silo);
                Registered = true;
                await Task.Delay(renew, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not register the alert feed with the broadcast grain; retrying");
                try { await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken); } catch (OperationCanceledException) { break; }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var c in _clients.Values) c.Channel.Writer.TryComplete();
        if (_reference is not null)
        {
            try
            {
                await grains.GetGrain<IAlertBroadcastGrain>(IAlertBroadcastGrain.DefaultKey).UnsubscribeAsync(_reference)
                    .WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (Exception ex)
            {
                logger.LogDebug(ex, "Could not unregister the alert feed");
            }
            try { grains.DeleteObjectReference<IAlertFeedObserver>(this); } catch (ArgumentException) { }
        }
        await base.StopAsync(cancellationToken);
    }

    public Task OnAlertsAsync(AlertFeedEvent[] events)
    {
        Publish(events);
        return Task.CompletedTask;
    }

    /// <summary>Events of alert grains on this silo (in-process) or, through the broadcast grain, on another.</summary>
    public void Publish(AlertFeedEvent[] events)
    {
        lock (_ringLock)
        {
            foreach (var e in events) _ring[_ringCount++ % _ring.Length] = e;
        }
        foreach (var client in _clients.Values)
        {
            foreach (var e in events)
            {
                if (client.Filter.Matches(e.Alert)) client.Channel.Writer.TryWrite(e);
            }
        }
    }

    /// <summary>Adds a client; null when the silo has <see cref="AlertFeedOptions.MaxClients"/> already.</summary>
    public Subscription? Subscribe(AlertFeedFilter filter, string? lastEventId)
    {
        if (_clients.Count >= _options.MaxClients) return null;
        var channel = Channel.CreateBounded<AlertFeedEvent>(new BoundedChannelOptions(Math.Max(1, _options.ClientBuffer))
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        var id = Interlocked.Increment(ref _nextClient);
        var client = new Client(filter, channel);
        List<AlertFeedEvent> replay = [];
        // Register before taking the replay so nothing falls between them; duplicates are skipped by the reader.
        _clients[id] = client;
        if (lastEventId is not null) replay = Replay(lastEventId, filter);
        return new Subscription(this, id, channel.Reader, replay);
    }

    private List<AlertFeedEvent> Replay(string lastEventId, AlertFeedFilter filter)
    {
        AlertFeedEvent[] ordered;
        lock (_ringLock)
        {
            var n = (int)Math.Min(_ringCount, _ring.Length);
            ordered = new AlertFeedEvent[n];
            for (var i = 0; i < n; i++) ordered[i] = _ring[(_ringCount - n + i) % _ring.Length];
        }
        var at = Array.FindLastIndex(ordered, e => e.EventId == lastEventId);
        var after = at >= 0
            ? ordered.Skip(at + 1)
            : ordered.Where(e => string.CompareOrdinal(e.EventId, lastEventId) > 0); // ids are time-ordered
        return after.Where(e => filter.Matches(e.Alert)).ToList();
    }

    private void Remove(long id) => _clients.TryRemove(id, out _);

    private sealed record Client(AlertFeedFilter Filter, Channel<AlertFeedEvent> Channel);

    public sealed class Subscription(AlertFeedHub hub, long id, ChannelReader<AlertFeedEvent> reader, IReadOnlyList<AlertFeedEvent> replay) : IDisposable
    {
        public ChannelReader<AlertFeedEvent> Reader { get; } = reader;
        public IReadOnlyList<AlertFeedEvent> Replay { get; } = replay;
        public void Dispose() => hub.Remove(id);
    }
}
