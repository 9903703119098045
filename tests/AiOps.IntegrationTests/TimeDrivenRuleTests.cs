using System.Net;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Alerts;
using AiOps.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// Missing telemetry is a deadline like freshness (it fires for an entity whose grain was collected), rule edges are
/// persisted, and reading a forecast decides nothing: the breach rule runs with the other rules, not in a GET.
/// </summary>
public sealed class TimeDrivenRuleTests
{
    private static readonly Dictionary<string, string?> Fast = new()
    {
        ["AiOps:Grains:RuleCheckInterval"] = "00:00:00.200",
        ["AiOps:Grains:DigestInterval"] = "00:00:00.300",
        ["AiOps:Alerts:IndexFlushInterval"] = "00:00:00.100",
        ["AiOps:Alerts:AutoResolveAfter"] = "00:00:01",
    };

    private static JsonNode? Missing(JsonArray alerts) => alerts.FirstOrDefault(a => (string?)a!["kind"] == "missingTelemetry");

    [Fact]
    public async Task MissingTelemetryFiresForAnEntityWhoseGrainWasCollectedAndResolvesWhenDataComesBack()
    {
        await using var app = new AiOpsAppFactory(settings: Fast);
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/api/v1/models/quiet-model", new { maxSilenceSeconds = 2 })).StatusCode);
        await client.PostTelemetry(Event("model", "quiet-model", "predictions", 10));
        await Eventually.Until(() => client.GetJsonOrNull("/api/v1/models/quiet-model"), j => j?["eventsApplied"]?.GetValue<long>() == 1);
        Assert.Null(Missing(await client.ListAlerts("entityId=quiet-model")));
        await Task.Delay(500); // a digest tick has told the schedule the deadline

        var management = app.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.FromMilliseconds(1));

        var alerts = await Eventually.Until(() => app.CreateClient().ListAlerts("entityId=quiet-model"), a => Missing(a) is not null,
            TimeSpan.FromSeconds(20), "missing-telemetry alert of a collected model");
        var alert = Missing(alerts)!;
        Assert.Equal("telemetry", (string)alert["metric"]!);
        Assert.Contains("limit 2 s", (string)alert["summary"]!);

        await client.PostTelemetry(Event("model", "quiet-model", "predictions", 5));
        await Eventually.Until(() => client.ListAlerts("entityId=quiet-model&state=resolved&kind=missingTelemetry"), a => a.Count == 1,
            TimeSpan.FromSeconds(20), "resolved when telemetry arrives again");
    }

    [Fact]
    public async Task MaxSilenceSecondsIsValidated()
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        var r = await client.PutJson("/api/v1/pipelines/p-silence", new { maxSilenceSeconds = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.NotNull((await r.ReadJson())["errors"]!["maxSilenceSeconds"]);
    }

    [Fact]
    public async Task ReadingAForecastRaisesNoAlert()
    {
        // Rules (and with them the forecast-breach rule) run on the digest tick: an hour away here. A read may make
        // the fit arrive sooner; before, the read itself queued the breach signal, which the next batch then sent.
        await using var app = new AiOpsAppFactory(settings: new Dictionary<string, string?>
        {
            ["AiOps:Grains:DigestInterval"] = "01:00:00",
            ["AiOps:Grains:ForecastInterval"] = "01:00:00",
            ["AiOps:Alerts:IndexFlushInterval"] = "00:00:00.100",
        });
        var client = app.CreateClient();
        const string id = "read-only-cc";
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson($"/api/v1/costcenters/{id}", new { monthlyBudget = 1.0 })).StatusCode);
        await Task.Delay(1000); // the activation's first digest tick (within 0.5 s) has passed; the next is an hour away
        var now = DateTimeOffset.UtcNow;
        var hourStart = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        await client.PostTelemetry(Enumerable.Range(1, 48).Select(h => Event("costcenter", id, "cost", 10, hourStart.AddHours(-h).AddMinutes(30))).ToArray());
        await Eventually.Until(() => client.GetJsonOrNull($"/api/v1/costcenters/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 48);

        var forecast = await client.GetAsync($"/api/v1/costcenters/{id}/forecast?horizon=24");
        Assert.Equal(HttpStatusCode.OK, forecast.StatusCode);
        Assert.True((double)(await forecast.ReadJson())["monthEnd"]!["forecast"]! > 1.0); // far above the budget

        // One more batch: any signal queued by the read would go out after it.
        await client.PostTelemetry(Event("costcenter", id, "cost", 1, hourStart.AddHours(-1).AddMinutes(40)));
        await Eventually.Until(() => client.GetJsonOrNull($"/api/v1/costcenters/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 49);
        await Task.Delay(1000);
        Assert.DoesNotContain(await client.ListAlerts($"entityId={id}"), a => (string?)a!["kind"] == "forecastBudgetBreach");
    }
}
