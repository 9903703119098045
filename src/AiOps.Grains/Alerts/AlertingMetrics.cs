using System.Diagnostics.Metrics;
using AiOps.Abstractions.Alerts;

namespace AiOps.Grains.Alerts;

/// <summary>
/// Alerting instruments on the application meter ("AiOps"). The open-alert gauge reads a snapshot of the
/// index refreshed by the maintenance service: it is the cluster-wide figure on every silo (aggregate with max, not sum).
/// </summary>
public sealed class AlertingMetrics
{
    public const string MeterName = "AiOps";
    private readonly Counter<long> _signals;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _givenUp;
    private readonly Counter<long> _opened;
    private volatile OpenAlertCount[] _open = [];

    public AlertingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _signals = meter.CreateCounter<long>("aiops.alerts.signals", "{signal}", "Alert signals received by the ingress, by kind and firing.");
        _opened = meter.CreateCounter<long>("aiops.alerts.opened", "{alert}", "Alerts opened, by kind and severity.");
        _sent = meter.CreateCounter<long>("aiops.alerts.notifications.sent", "{request}", "Webhook deliveries acknowledged with 2xx.");
        _failed = meter.CreateCounter<long>("aiops.alerts.notifications.failed", "{request}", "Webhook delivery attempts that failed (retried).");
        _givenUp = meter.CreateCounter<long>("aiops.alerts.notifications.given_up", "{delivery}", "Webhook deliveries abandoned after the retry budget.");
        meter.CreateObservableGauge("aiops.alerts.open", ObserveOpen, "{alert}", "Active (open or acknowledged) alerts, by kind and severity.");
    }

    public void Signalled(AlertKind kind, bool firing, int count = 1) =>
        _signals.Add(count, new KeyValuePair<string, object?>("kind", kind.ToString()), new KeyValuePair<string, object?>("firing", firing));

    public void Opened(AlertKind kind, AlertSeverity severity) =>
        _opened.Add(1, new KeyValuePair<string, object?>("kind", kind.ToString()), new KeyValuePair<string, object?>("severity", severity.ToString()));

    public void NotificationSent() => _sent.Add(1);
    public void NotificationFailed() => _failed.Add(1);
    public void NotificationGivenUp() => _givenUp.Add(1);

    public void SetOpenCounts(OpenAlertCount[] counts) => _open = counts;

    private IEnumerable<Measurement<long>> ObserveOpen()
    {
        foreach (var c in _open)
        {
            yield return new Measurement<long>(c.Count,
                new KeyValuePair<string, object?>("kind", c.Kind.ToString()),
                new KeyValuePair<string, object?>("severity", c.Severity.ToString()));
        }
    }
}
