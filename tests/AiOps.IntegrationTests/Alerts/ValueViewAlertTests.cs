using System.Net.Http.Json;
using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Alerts.AlertTestExtensions;

namespace AiOps.IntegrationTests.Alerts;

/// <summary>The value view counts open alerts where the alert list does: in the alert index, the one owner of alert state.</summary>
public sealed class ValueViewAlertTests
{
    [Fact]
    public async Task TheValueViewsOpenAlertsAndAnomaliesAgreeWithTheAlertListAlsoAfterAnOperatorResolves()
    {
        await using var factory = new AiOpsAppFactory(settings: AlertSettings.Fast());
        var admin = factory.CreateClient();
        var model = NewId("vv");
        await factory.Signal(
            Firing(model, score: 0.95),
            Firing(model, score: 0.9, metric: "errors"),
            Firing(model, alertKind: AlertKind.ModelErrorRate, metric: "errors") with { Score = 1 });
        var alerts = await admin.AlertsOf(model, a => a.Count == 3);

        var value = await Eventually.Until(() => admin.GetJsonOrNull("/api/v1/value"), v => (int?)v?["openAlerts"] == 3);
        Assert.Equal(2, (int)value!["openAnomalies"]!);
        Assert.Equal(3, value["openAlertsBySeverity"]!.AsObject().Sum(kv => (int)kv.Value!));

        // An operator resolves one anomaly: the detector's episode may still be open, the alert is not.
        var anomaly = alerts.First(a => (string?)a!["kind"] == "metricAnomaly" && (string?)a["metric"] == "latency_ms")!;
        (await admin.PostAsJsonAsync($"/api/v1/alerts/{(string)anomaly["id"]!}/resolve", new { reason = "known" })).EnsureSuccessStatusCode();
        value = await Eventually.Until(() => admin.GetJsonOrNull("/api/v1/value"), v => (int?)v?["openAlerts"] == 2);
        Assert.Equal(1, (int)value!["openAnomalies"]!);
        var listed = await admin.ListAlerts("state=open,acknowledged");
        Assert.Equal(2, listed.Count);
    }
}
