using System.Net;
using System.Net.Http.Json;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Alerts.AlertTestExtensions;

namespace AiOps.IntegrationTests.Alerts;

public sealed class WebhookTests(AlertTestApp app) : IClassFixture<AlertTestApp>, IAsyncLifetime
{
    private readonly HttpClient _admin = app.Client;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();
    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task DeliveriesAreSignedAndCarryAStableDeliveryIdAndTheAlertLogsThem()
    {
        var prefix = NewId("hook");
        var (subscriptionId, secret) = await _admin.Subscribe(_receiver, new { entityId = $"{prefix}*", minSeverity = "medium" });
        Assert.StartsWith("whsec_", secret);
        var listed = (await _admin.GetJsonOrNull("/api/v1/webhooks"))!.AsArray();
        Assert.DoesNotContain("whsec_", listed.ToJsonString()); // the secret is shown once, on creation

        await app.Factory.Signal(Firing($"{prefix}-low", score: 0.2)); // below the subscription's minimum severity
        await app.Factory.Signal(Firing($"{prefix}-1", score: 0.9, moneyAtRisk: 2500) with { Reason = Abstractions.Alerts.AnomalyReason.Level }); // money at risk ≥ 1,000 → high
        var got = await Eventually.Until(() => Task.FromResult(_receiver.For(prefix)), d => d.Count == 1);
        var body = got[0];
        Assert.Equal("alert.opened", (string)body["event"]!);
        Assert.Equal(subscriptionId, (string)body["subscriptionId"]!);
        Assert.Equal("high", (string)body["alert"]!["severity"]!);
        Assert.Equal($"{prefix}-1", (string)body["alert"]!["entityId"]!);
        Assert.Equal("level", (string)body["alert"]!["reason"]!); // what the detector found unusual
        Assert.Equal(_receiver.Accepted.Single(kv => kv.Value == body).Key, (string)body["deliveryId"]!);
        Assert.True(long.Parse((string)body["_timestamp"]!) > 0);
        Assert.Equal(0, _receiver.BadSignatures);

        var alertId = (string)body["alert"]!["id"]!;
        var detail = await Eventually.Until(() => _admin.Alert(alertId), d => d["deliveries"]!.AsArray().Any(x => (string)x!["outcome"]! == "delivered"));
        var delivered = detail["deliveries"]!.AsArray().Single(x => (string)x!["outcome"]! == "delivered")!;
        Assert.Equal(204, (int)delivered["statusCode"]!);
        Assert.Equal((string)body["deliveryId"]!, (string)delivered["deliveryId"]!);

        var status = await _admin.GetJsonOrNull($"/api/v1/webhooks/{subscriptionId}");
        Assert.Equal(0, (int)status!["outbox"]!["pending"]!);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/webhooks/{subscriptionId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/v1/webhooks/{subscriptionId}")).StatusCode);
    }

    [Fact]
    public async Task AReceiverFailingThirtyPercentOfRequestsStillGetsEveryAlertExactlyOnceAfterDedupe()
    {
        const int alerts = 40;
        var prefix = NewId("flaky");
        _receiver.FailureRate = 0.3;
        await _admin.Subscribe(_receiver, new { entityId = $"{prefix}*" });
        for (var i = 0; i < alerts; i++) await app.Factory.Signal(Firing($"{prefix}-{i}", score: 0.95));

        var got = await Eventually.Until(() => Task.FromResult(_receiver.For(prefix)), d => d.Count >= alerts, TimeSpan.FromSeconds(30));
        await Task.Delay(300); // anything late would show up as an extra delivery id
        got = _receiver.For(prefix);
        Assert.Equal(alerts, got.Count);
        Assert.Equal(alerts, got.Select(j => (string)j["alert"]!["id"]!).Distinct().Count());
        Assert.All(got, j => Assert.Equal("alert.opened", (string)j["event"]!));
        Assert.True(_receiver.Failed > 0, "the receiver failed some requests");
        Assert.Equal(0, _receiver.BadSignatures);
    }
}

public sealed class WebhookRestartTests
{
    [Fact]
    public async Task DeliveriesPendingWhenTheServerStopsAreDeliveredAfterItRestarts()
    {
        const int alerts = 12;
        var data = TempDirectory.Create("aiops-alert-restart");
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Down = true;
        var prefix = NewId("restart");
        string subscriptionId;

        await using (var first = new AiOpsAppFactory(data, AlertSettings.Fast()))
        {
            var client = first.CreateClient();
            (subscriptionId, _) = await client.Subscribe(receiver, new { entityId = $"{prefix}*" });
            for (var i = 0; i < alerts; i++) await first.Signal(Firing($"{prefix}-{i}"));
            await Eventually.Until(() => client.GetJsonOrNull($"/api/v1/webhooks/{subscriptionId}"),
                j => (int)j!["outbox"]!["pending"]! == alerts && receiver.Requests >= alerts, because: "every delivery was attempted and is pending");
        } // graceful stop with deliveries pending

        Assert.Empty(receiver.Accepted);
        receiver.Down = false;

        await using var second = new AiOpsAppFactory(data, AlertSettings.Fast());
        var again = second.CreateClient();
        var got = await Eventually.Until(() => Task.FromResult(receiver.For(prefix)), d => d.Count >= alerts, TimeSpan.FromSeconds(30));
        Assert.Equal(alerts, got.Select(j => (string)j["alert"]!["id"]!).Distinct().Count());
        Assert.Equal(alerts, got.Count);
        Assert.Equal(0, receiver.BadSignatures); // the subscription's secret survived the restart

        var status = await Eventually.Until(() => again.GetJsonOrNull($"/api/v1/webhooks/{subscriptionId}"), j => (int)j!["outbox"]!["pending"]! == 0);
        Assert.Equal(alerts, (long)status!["outbox"]!["delivered"]!);
        var list = await again.ListAlerts($"entityId={prefix}*");
        Assert.Equal(alerts, list.Count); // the alerts themselves survived too
    }
}
