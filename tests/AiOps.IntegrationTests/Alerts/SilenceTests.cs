using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Alerts.AlertTestExtensions;

namespace AiOps.IntegrationTests.Alerts;

public sealed class SilenceTests(AlertTestApp app) : IClassFixture<AlertTestApp>, IAsyncLifetime
{
    private readonly HttpClient _admin = app.Client;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();
    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private async Task<JsonNode> Silence(object body)
    {
        var r = await _admin.PostAsJsonAsync("/api/v1/silences", body);
        Assert.True(r.StatusCode == HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        return await r.ReadJson();
    }

    [Fact]
    public async Task ASilencedAlertIsRecordedButNotDeliveredWhileANonMatchingOneIs()
    {
        var prefix = NewId("sil");
        await _admin.Subscribe(_receiver, new { entityId = $"{prefix}*" });
        var silence = await Silence(new
        {
            matchers = new[] { new { field = "entityId", value = $"{prefix}-quiet-*" }, new { field = "kind", value = "metricAnomaly" } },
            reason = "planned maintenance",
            expiresAt = DateTimeOffset.UtcNow.AddHours(1),
        });
        Assert.Equal("active", (string)silence["status"]!);

        var quiet = $"{prefix}-quiet-1";
        var loud = $"{prefix}-loud-1";
        await app.Factory.Signal(Firing(quiet));
        await app.Factory.Signal(Firing(loud));

        var delivered = await Eventually.Until(() => Task.FromResult(_receiver.For(prefix)), d => d.Count >= 1);
        var quietAlert = (await _admin.AlertsOf(quiet, a => a.Count == 1))[0]!;
        Assert.Equal("open", (string)quietAlert["state"]!); // recorded, still open
        Assert.True((bool)quietAlert["silenced"]!);
        Assert.Equal((string)silence["id"]!, (string)quietAlert["silenceId"]!);
        var log = (await _admin.Alert((string)quietAlert["id"]!))["deliveries"]!.AsArray();
        Assert.Equal("skipped-silenced", (string)Assert.Single(log)!["outcome"]!);

        await Task.Delay(300);
        Assert.Equal([loud], _receiver.For(prefix).Select(j => (string)j["alert"]!["entityId"]!));
        Assert.Single(await _admin.ListAlerts($"entityId={prefix}*&silenced=true"));
    }

    [Fact]
    public async Task ASilencedAlertThatRetriggersAfterItsSilenceEndedIsNotified()
    {
        var prefix = NewId("silend");
        await _admin.Subscribe(_receiver, new { entityId = $"{prefix}*" });
        var silence = await Silence(new
        {
            matchers = new[] { new { field = "entityId", value = prefix } },
            reason = "noisy while we migrate",
            expiresAt = DateTimeOffset.UtcNow.AddHours(1),
        });
        await app.Factory.Signal(Firing(prefix));
        await _admin.AlertsOf(prefix, a => a.Count == 1 && (bool)a[0]!["silenced"]!);

        var ended = await _admin.DeleteAsync($"/api/v1/silences/{silence["id"]}");
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Empty(_receiver.For(prefix)); // ending a silence does not notify by itself

        await app.Factory.Signal(Firing(prefix));
        var delivered = await Eventually.Until(() => Task.FromResult(_receiver.For(prefix)), d => d.Count == 1);
        Assert.Equal("alert.retriggered", (string)delivered[0]["event"]!);
        Assert.False((bool)delivered[0]["alert"]!["silenced"]!);
    }

    [Fact]
    public async Task SilenceExpiryIsVisibleInTheList()
    {
        var shortOne = await Silence(new
        {
            matchers = new[] { new { field = "metric", value = "latency_*" }, new { field = "entityKind", value = "model" } },
            reason = "short",
            expiresAt = DateTimeOffset.UtcNow.AddSeconds(8), // long enough to be listed as active on a loaded machine
        });
        var later = await Silence(new
        {
            matchers = new[] { new { field = "entityId", value = "nightly-*" } },
            reason = "starts tonight",
            startsAt = DateTimeOffset.UtcNow.AddHours(6),
            expiresAt = DateTimeOffset.UtcNow.AddHours(8),
        });
        var ended = await Silence(new { matchers = new[] { new { field = "entityId", value = "x-*" } }, reason = "ended early", expiresAt = DateTimeOffset.UtcNow.AddDays(2) });
        var deleted = await (await _admin.DeleteAsync($"/api/v1/silences/{ended["id"]}")).ReadJson();
        Assert.Equal("expired", (string)deleted["status"]!);
        Assert.NotNull(deleted["endedAt"]);

        string StatusOf(JsonArray list, JsonNode s) => (string)list.Single(x => (string)x!["id"]! == (string)s["id"]!)!["status"]!;
        var now = (await _admin.GetJsonOrNull("/api/v1/silences"))!.AsArray();
        Assert.Equal("active", StatusOf(now, shortOne));
        Assert.Equal("pending", StatusOf(now, later));
        Assert.Equal("expired", StatusOf(now, ended));

        await Eventually.Until(async () => (await _admin.GetJsonOrNull("/api/v1/silences?status=expired"))!.AsArray(),
            l => l.Any(x => (string)x!["id"]! == (string)shortOne["id"]!), TimeSpan.FromSeconds(30), because: "the short silence expires");
        Assert.DoesNotContain((await _admin.GetJsonOrNull("/api/v1/silences?status=active"))!.AsArray(), x => (string)x!["id"]! == (string)shortOne["id"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync("/api/v1/silences/nope")).StatusCode);
    }
}
