namespace AiOps.Grains.Alerts;

/// <summary>Alerting settings (configuration section <c>AiOps:Alerts</c>).</summary>
public sealed class AlertingOptions
{
    public const string Section = "AiOps:Alerts";

    /// <summary>An active alert resolves by itself once its series has been normal (a Firing=false signal, no firing since) this long.</summary>
    public TimeSpan AutoResolveAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>An active alert with no signal at all for this long resolves by itself (the entity went quiet).</summary>
    public TimeSpan QuietResolveAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Write-behind interval of alert grains for signal-driven changes (operator actions are written at once).</summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often silo-local collectors push re-trigger header updates to the index.</summary>
    public TimeSpan IndexFlushInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Write-behind interval of the index.</summary>
    public TimeSpan IndexPersistInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Resolved alerts kept in the index (newest first); active ones are always kept.</summary>
    public int IndexMaxResolved { get; set; } = 10_000;

    /// <summary>Resolved alerts kept (with full history) per alert key.</summary>
    public int ArchivePerKey { get; set; } = 20;

    public int MaxHistoryEntries { get; set; } = 200;
    public int MaxDeliveryLogEntries { get; set; } = 200;

    /// <summary>At most one "retriggered" live-feed event per alert per this interval (escalations always go out).</summary>
    public TimeSpan RetriggerFeedInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Signals buffered per key in an ingress activation while a call for that key is in flight.</summary>
    public int MaxBufferedSignalsPerKey { get; set; } = 10_000;

    public SeverityOptions Severity { get; set; } = new();
    public WebhookOptions Webhooks { get; set; } = new();
}

/// <summary>Thresholds of the severity rule (see docs/alerting.md).</summary>
public sealed class SeverityOptions
{
    public double ScoreCritical { get; set; } = 0.995;
    public double ScoreHigh { get; set; } = 0.97;
    public double ScoreMedium { get; set; } = 0.85;
    /// <summary>Money at risk at or above which an alert is at least medium / high / critical.</summary>
    public double MoneyMedium { get; set; } = 100;
    public double MoneyHigh { get; set; } = 1_000;
    public double MoneyCritical { get; set; } = 10_000;
    /// <summary>Forecast over budget by more than this percentage: high (otherwise medium).</summary>
    public double ForecastHighOverPercent { get; set; } = 10;
    /// <summary>Forecast over budget by more than this percentage: critical.</summary>
    public double ForecastCriticalOverPercent { get; set; } = 50;
}

/// <summary>Webhook delivery settings (section <c>AiOps:Alerts:Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    /// <summary>First retry delay; doubles per attempt, with ±20% jitter, up to <see cref="RetryMax"/>.</summary>
    public TimeSpan RetryBase { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryMax { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>A delivery still failing this long after it was created is given up.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(24);
    /// <summary>... or after this many attempts.</summary>
    public int MaxAttempts { get; set; } = 100;
    /// <summary>Per-request timeout (receivers are untrusted).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Concurrent requests per subscription.</summary>
    public int Concurrency { get; set; } = 8;
    public int MaxSubscriptions { get; set; } = 100;
    /// <summary>Pending deliveries per subscription; beyond this the oldest are given up.</summary>
    public int MaxPendingPerSubscription { get; set; } = 100_000;

    /// <summary>
    /// Networks (CIDR, e.g. <c>10.20.0.0/16</c>, <c>127.0.0.1/32</c>) that webhooks may reach although they are internal
    /// (loopback, link-local, private, unique-local, carrier-grade NAT, reserved). Empty by default: only public
    /// addresses. Set by an administrator in configuration, never through the API.
    /// </summary>
    public List<string> AllowedInternalNetworks { get; set; } = [];
}
