namespace AiOps.Server.Alerting;

/// <summary>Live feed (SSE) settings, section <c>AiOps:Alerts:Feed</c>.</summary>
public sealed class AlertFeedOptions
{
    public const string Section = "AiOps:Alerts:Feed";

    /// <summary>Comment line sent to idle SSE clients (keeps proxies from closing the connection).</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Events kept per silo for <c>Last-Event-ID</c> replay.</summary>
    public int ReplaySize { get; set; } = 1_000;

    /// <summary>Events buffered per SSE client; a client further behind loses the oldest.</summary>
    public int ClientBuffer { get; set; } = 1_000;

    /// <summary>Concurrent SSE clients per silo.</summary>
    public int MaxClients { get; set; } = 1_000;

    /// <summary>Registration lease with the broadcast grain (renewed at a third of it).</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the maintenance service wakes webhook outboxes and alert keys, and refreshes the open-alert gauge.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromSeconds(30);
}
