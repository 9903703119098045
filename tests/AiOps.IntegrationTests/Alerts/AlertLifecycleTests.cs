using System.Net;
using System.Net.Http.Json;
using AiOps.Abstractions.Alerts;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Alerts.AlertTestExtensions;

namespace AiOps.IntegrationTests.Alerts;

public sealed class AlertLifecycleTests(AlertTestApp app) : IClassFixture<AlertTestApp>
{
    private readonly HttpClient _admin = app.Client;

    [Fact]
    public async Task AnAlertIsOpenedAcknowledgedAndResolvedWithActorsAndReasonsInItsHistory()
    {
        var entity = NewId("life");
        await app.Factory.Signal(Firing(entity, score: 0.98));
        var open = (await _admin.AlertsOf(entity, a => a.Count == 1))[0]!;
        Assert.Equal("open", (string)open["state"]!);
        Assert.Equal("high", (string)open["severity"]!); // score 0.98 → high
        var id = (string)open["id"]!;

        var operatorClient = await app.Factory.CreateClientWithRoleAsync("operator");
        var ack = await operatorClient.PostAsJsonAsync($"/api/v1/alerts/{id}/ack", new { reason = "looking into it" });
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        var comment = await operatorClient.PostAsJsonAsync($"/api/v1/alerts/{id}/comments", new { text = "cache node restarted" });
        Assert.Equal(HttpStatusCode.OK, comment.StatusCode);
        var resolve = await operatorClient.PostAsJsonAsync($"/api/v1/alerts/{id}/resolve", new { reason = "latency back to normal" });
        Assert.Equal(HttpStatusCode.OK, resolve.StatusCode);

        var detail = await _admin.Alert(id);
        Assert.Equal("resolved", (string)detail["alert"]!["state"]!);
        Assert.Equal("test-operator", (string)detail["acknowledgedBy"]!); // the API key's name, not a body field
        Assert.Equal("test-operator", (string)detail["resolvedBy"]!);
        Assert.Equal("latency back to normal", (string)detail["resolveReason"]!);
        var history = detail["history"]!.AsArray().Select(h => ((string)h!["type"]!, (string)h["actor"]!, (string?)h["text"])).ToList();
        Assert.Equal(
            [("opened", "system", $"latency_ms anomalous on {entity}"), ("acknowledged", "test-operator", "looking into it"),
             ("commented", "test-operator", "cache node restarted"), ("resolved", "test-operator", "latency back to normal")],
            history);

        var again = await operatorClient.PostAsJsonAsync($"/api/v1/alerts/{id}/resolve", new { });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var listed = await _admin.AlertsOf(entity, a => a.Count == 1 && (string)a[0]!["state"]! == "resolved");
        Assert.Equal(id, (string)listed[0]!["id"]!);
    }

    [Fact]
    public async Task RepeatedFiringSignalsKeepOneOpenAlertAndCountTheRetriggers()
    {
        var entity = NewId("dedupe");
        await app.Factory.Signal(Firing(entity, score: 0.86, value: 100));
        for (var i = 1; i < 10; i++) await app.Factory.Signal(Firing(entity, score: 0.86 + i * 0.001, value: 100 + i));

        var alerts = await _admin.AlertsOf(entity, a => a.Count == 1 && (int)a[0]!["retriggerCount"]! == 9);
        var detail = await _admin.Alert((string)alerts[0]!["id"]!);
        Assert.Equal("open", (string)detail["alert"]!["state"]!);
        Assert.Equal(109, (double)detail["alert"]!["lastValue"]!);
        Assert.Equal(0.869, (double)detail["alert"]!["maxScore"]!, 6);
        Assert.Single(detail["history"]!.AsArray()); // plain re-triggers count, they do not flood the history
    }

    [Fact]
    public async Task ARetriggerWithAHigherScoreEscalatesTheSeverity()
    {
        var entity = NewId("escalate");
        await app.Factory.Signal(Firing(entity, score: 0.5));
        var first = (await _admin.AlertsOf(entity, a => a.Count == 1))[0]!;
        Assert.Equal("low", (string)first["severity"]!);
        await app.Factory.Signal(Firing(entity, score: 0.999));
        var escalated = await _admin.AlertsOf(entity, a => a.Count == 1 && (string)a[0]!["severity"]! == "critical");
        var detail = await _admin.Alert((string)escalated[0]!["id"]!);
        Assert.Contains(detail["history"]!.AsArray(), h => (string)h!["type"]! == "escalated" && (string)h["severity"]! == "critical");
    }

    [Fact]
    public async Task AnAlertResolvesItselfOnceItsSeriesStaysNormalForTheConfiguredTime()
    {
        var entity = NewId("auto");
        await app.Factory.Signal(Firing(entity));
        var id = (string)(await _admin.AlertsOf(entity, a => a.Count == 1))[0]!["id"]!;
        await app.Factory.Signal(Normal(entity));

        await _admin.AlertsOf(entity, a => a.Count == 1 && (string)a[0]!["state"]! == "resolved");
        var detail = await _admin.Alert(id);
        Assert.Equal("system", (string)detail["resolvedBy"]!);
        Assert.StartsWith("Automatically resolved: normal since", (string)detail["resolveReason"]!);
    }

    [Fact]
    public async Task AFiringSignalAfterTheSeriesWentNormalKeepsTheAlertOpen()
    {
        var entity = NewId("flap");
        await app.Factory.Signal(Firing(entity));
        await app.Factory.Signal(Normal(entity));
        await app.Factory.Signal(Firing(entity)); // back to anomalous before the auto-resolve delay
        var alerts = await _admin.AlertsOf(entity, a => a.Count == 1 && (int)a[0]!["retriggerCount"]! == 1);
        await Task.Delay(1500); // longer than AutoResolveAfter (1 s): still open, since it fired again
        alerts = await _admin.ListAlerts($"entityId={entity}");
        Assert.Single(alerts);
        Assert.Equal("open", (string)alerts[0]!["state"]!);
    }

    [Fact]
    public async Task AResolvedAlertThatFiresAgainOpensANewAlertAndHistoryKeepsBoth()
    {
        var entity = NewId("reopen");
        await app.Factory.Signal(Firing(entity, kind: Abstractions.EntityKind.Pipeline, metric: "run.failure", alertKind: AlertKind.PipelineFailure, score: 1));
        var first = (await _admin.AlertsOf(entity, a => a.Count == 1))[0]!;
        Assert.Equal("high", (string)first["severity"]!); // pipeline failure → high
        var firstId = (string)first["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsJsonAsync($"/api/v1/alerts/{firstId}/resolve", new { reason = "rerun ok" })).StatusCode);

        await app.Factory.Signal(Firing(entity, kind: Abstractions.EntityKind.Pipeline, metric: "run.failure", alertKind: AlertKind.PipelineFailure, score: 1));
        var both = await _admin.AlertsOf(entity, a => a.Count == 2);
        Assert.Equal("open", (string)both[0]!["state"]!); // newest first
        Assert.Equal("resolved", (string)both[1]!["state"]!);
        var secondId = (string)both[0]!["id"]!;
        Assert.NotEqual(firstId, secondId);
        Assert.True(string.CompareOrdinal(secondId, firstId) > 0, "ids sort by creation time");
        Assert.Equal(0, (int)both[0]!["retriggerCount"]!);
        Assert.Equal("rerun ok", (string)(await _admin.Alert(firstId))["resolveReason"]!);

        var resolvedOnly = await _admin.ListAlerts($"entityId={entity}&state=resolved&kind=pipelineFailure&minSeverity=high");
        Assert.Equal(firstId, (string)Assert.Single(resolvedOnly)!["id"]!);
    }

    [Fact]
    public async Task ATestAlertGoesThroughTheRealPathAndIsMarkedAsATest()
    {
        var r = await _admin.PostAsJsonAsync("/api/v1/alerts/test", new { summary = "drill" });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var created = await r.ReadJson();
        var id = (string)created["alert"]!["id"]!;
        Assert.True((bool)created["alert"]!["test"]!);
        Assert.StartsWith("aiops-test-", (string)created["alert"]!["entityId"]!);
        Assert.Equal(r.Headers.Location!.ToString(), $"/api/v1/alerts/{id}");
        Assert.Equal("drill", (string)(await _admin.Alert(id))["alert"]!["summary"]!);
        // A test alert has no detector behind it: it resolves itself after the auto-resolve delay.
        await Eventually.Until(() => _admin.Alert(id), d => (string)d["alert"]!["state"]! == "resolved");
    }

    [Fact]
    public async Task BadRequestsNameTheFieldAndChangeNothing()
    {
        var entity = NewId("bad");
        await app.Factory.Signal(Firing(entity));
        var id = (string)(await _admin.AlertsOf(entity, a => a.Count == 1))[0]!["id"]!;

        async Task Expect(HttpResponseMessage r, HttpStatusCode status, string? field = null)
        {
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == status, $"expected {(int)status}, got {(int)r.StatusCode}: {text}");
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            if (field is not null) Assert.True((await r.ReadJson())["errors"]?[field] is not null, $"no error for '{field}': {text}");
        }

        await Expect(await _admin.PostAsJsonAsync($"/api/v1/alerts/{id}/comments", new { text = new string('x', 2001) }), HttpStatusCode.BadRequest, "text");
        await Expect(await _admin.PostAsJsonAsync($"/api/v1/alerts/{id}/comments", new { }), HttpStatusCode.BadRequest, "text");
        await Expect(await _admin.PostAsJsonAsync($"/api/v1/alerts/{id}/ack", new { by = "x", reason = "a\u0001b" }), HttpStatusCode.BadRequest, "reason");
        await Expect(await _admin.PostAsJsonAsync("/api/v1/alerts/0123456789ABCDEFGHJKMNPQRS/ack", new { }), HttpStatusCode.NotFound);
        await Expect(await _admin.PostAsJsonAsync("/api/v1/alerts/not-an-id/ack", new { }), HttpStatusCode.BadRequest, "id");
        await Expect(await _admin.GetAsync("/api/v1/alerts?state=sleeping"), HttpStatusCode.BadRequest, "state");
        await Expect(await _admin.GetAsync("/api/v1/alerts?minSeverity=urgent&limit=0"), HttpStatusCode.BadRequest, "minSeverity");
        await Expect(await _admin.GetAsync("/api/v1/alerts?entityId=a%2Fb"), HttpStatusCode.BadRequest, "entityId");
        await Expect(await _admin.PostAsJsonAsync("/api/v1/alerts/test", new { score = 3 }), HttpStatusCode.BadRequest, "score");
        await Expect(await _admin.PostAsJsonAsync("/api/v1/silences", new { matchers = new[] { new { field = "entityId", value = "x" } }, reason = "r" }), HttpStatusCode.BadRequest, "expiresAt");
        await Expect(await _admin.PostAsJsonAsync("/api/v1/silences", new
        {
            matchers = new[] { new { field = "entityId", value = "x" } }, reason = "r", expiresAt = DateTimeOffset.UtcNow.AddDays(91),
        }), HttpStatusCode.BadRequest, "expiresAt");
        await Expect(await _admin.PostAsJsonAsync("/api/v1/silences", new
        {
            matchers = Enumerable.Range(0, 9).Select(i => new { field = "metric", value = $"m{i}" }), reason = "r", expiresAt = DateTimeOffset.UtcNow.AddHours(1),
        }), HttpStatusCode.BadRequest, "matchers");
        await Expect(await _admin.PostAsJsonAsync("/api/v1/silences", new
        {
            matchers = new[] { new { field = "colour", value = "x" } }, reason = "r", expiresAt = DateTimeOffset.UtcNow.AddHours(1),
        }), HttpStatusCode.BadRequest, "matchers[0].field");
        await Expect(await _admin.PostAsJsonAsync("/api/v1/webhooks", new { url = "ftp://example.com/hook" }), HttpStatusCode.BadRequest, "url");
        await Expect(await _admin.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/" + new string('a', 2100) }), HttpStatusCode.BadRequest, "url");
        await Expect(await _admin.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/hook", kinds = new[] { "spendAnomaly", "nope" } }), HttpStatusCode.BadRequest, "kinds");

        var detail = await _admin.Alert(id);
        Assert.Equal("open", (string)detail["alert"]!["state"]!);
        Assert.Single(detail["history"]!.AsArray());
        Assert.DoesNotContain((await _admin.GetJsonOrNull("/api/v1/webhooks"))!.AsArray(),
            w => ((string)w!["url"]!).StartsWith("ftp", StringComparison.Ordinal) || ((string)w["url"]!).Length > 2000);
    }
}
