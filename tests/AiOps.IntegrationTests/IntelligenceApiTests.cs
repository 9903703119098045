using System.Net;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>Detectors in the grains score every point as it streams in; cost centers forecast spend; both feed alerts.</summary>
public sealed class IntelligenceApiTests : IClassFixture<IntelligenceApiTests.App>
{
    public sealed class App : IAsyncLifetime
    {
        public AiOpsAppFactory Factory { get; } = new(settings: new Dictionary<string, string?>
        {
            ["AiOps:Grains:ForecastInterval"] = "00:00:01",
            ["AiOps:Alerts:AutoResolveAfter"] = "00:00:01",
        });
        public HttpClient Client { get; private set; } = null!;
        public Task InitializeAsync() { Client = Factory.CreateClient(); return Task.CompletedTask; }
        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    private readonly HttpClient _client;

    public IntelligenceApiTests(App app) => _client = app.Client;

    internal static async Task<JsonArray> Alerts(HttpClient client, string query)
    {
        var r = await client.GetAsync($"/api/v1/alerts?{query}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var j = await r.ReadJson();
        return (j["items"] ?? j).AsArray();
    }

    [Fact]
    public async Task AStreamedSeriesWithAnInjectedSpikeOpensAnAnomalyAndAnAlert()
    {
        var id = $"spiky-{Guid.NewGuid():N}"[..20];
        var start = DateTimeOffset.UtcNow.AddMinutes(-700);
        var rng = new Random(3);
        var normal = Enumerable.Range(0, 600)
            .Select(i => Event("model", id, "latency_ms", 100 + 10 * Math.Sin(i * 2 * Math.PI / 60) + rng.NextDouble() * 4, start.AddMinutes(i)))
            .ToArray();
        await _client.PostTelemetry(normal);
        var calm = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 600);
        Assert.Empty(calm!["openAnomalies"]!.AsArray());

        await _client.PostTelemetry(Event("model", id, "latency_ms", 900, start.AddMinutes(600)));
        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{id}"), j => j?["openAnomalies"]?.AsArray().Count == 1);
        var anomaly = s!["openAnomalies"]![0]!;
        Assert.Equal("latency_ms", (string)anomaly["metric"]!);
        Assert.Equal(900, (double)anomaly["lastValue"]!);
        Assert.True((double)anomaly["maxScore"]! >= 0.8);
        Assert.Equal("point", (string)anomaly["reason"]!); // what the detector found unusual: the point itself

        var scores = await (await _client.GetAsync($"/api/v1/models/{id}/anomalies?limit=5")).ReadJson();
        Assert.True((double)scores["metrics"]![0]!["lastScore"]! >= 0.8);

        var alerts = await Eventually.Until(() => Alerts(_client, $"entityId={id}"), a => a.Count >= 1);
        Assert.Equal("metricAnomaly", (string)alerts[0]!["kind"]!);
        Assert.Equal("latency_ms", (string)alerts[0]!["metric"]!);
        Assert.Equal("point", (string)alerts[0]!["reason"]!);
        Assert.Single(await Alerts(_client, $"entityId={id}&reason=point,level"));
        Assert.Empty(await Alerts(_client, $"entityId={id}&reason=pattern"));
        var bad = await _client.GetAsync($"/api/v1/alerts?reason=spiky");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.ReadJson())["errors"]!["reason"] is not null); // RFC 9457 problem details naming the field
        Assert.Contains("unlike its recent values", (string)alerts[0]!["summary"]!);
        Assert.Matches("aiops_anomaly_detected_total\\{[^}]*reason=\"point\"", await _client.GetStringAsync("/metrics")); // Prometheus counts episodes by reason
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    [InlineData("1.5")]
    public async Task AnAlarmThresholdThatIsNotAScoreStopsTheServerAtStart(string threshold)
    {
        await using var factory = new AiOpsAppFactory(settings: new Dictionary<string, string?> { ["AiOps:Grains:AlarmThreshold"] = threshold });
        var e = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("AiOps:Grains:AlarmThreshold must be in (0, 1)", e.ToString());
    }

    [Fact]
    public async Task ACostCenterForecastHasNestedIntervalsAMonthEndAndABreachOutlook()
    {
        var id = $"fc-{Guid.NewGuid():N}"[..20];
        Assert.Equal(HttpStatusCode.OK, (await _client.PutJson($"/api/v1/costcenters/{id}", new { monthlyBudget = 1.0 })).StatusCode);
        var now = DateTimeOffset.UtcNow;
        var hourStart = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        var events = Enumerable.Range(1, 24 * 10)
            .Select(h => hourStart.AddHours(-h))
            .Select(t => Event("costcenter", id, "cost", 10 + 5 * Math.Sin(t.Hour * 2 * Math.PI / 24), t.AddMinutes(30)))
            .ToArray();
        await _client.PostTelemetry(events);
        await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/costcenters/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 240);

        var r = await _client.GetAsync($"/api/v1/costcenters/{id}/forecast?horizon=48");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var f = await r.ReadJson();
        var points = f["points"]!.AsArray();
        Assert.Equal(48, points.Count);
        foreach (var p in points)
        {
            var (lo95, lo80, mean, hi80, hi95) = ((double)p!["lo95"]!, (double)p["lo80"]!, (double)p["mean"]!, (double)p["hi80"]!, (double)p["hi95"]!);
            Assert.True(lo95 <= lo80 && lo80 <= mean && mean <= hi80 && hi80 <= hi95, p.ToJsonString());
            Assert.InRange(mean, 0, 40); // the series lives in 5..15 per hour
        }
        Assert.Equal(240, (int)f["historyHours"]!);
        var monthEnd = f["monthEnd"]!;
        Assert.True((double)monthEnd["forecast"]! >= (double)monthEnd["spendMonthToDate"]!);
        Assert.Equal(1.0, (double)monthEnd["breachProbability"]!, 3); // a budget of 1 is already spent
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.GetAsync($"/api/v1/costcenters/{id}/forecast?horizon=0")).StatusCode);

        // The month-end forecast above budget raises a forecast-breach alert, actual spend a budget-threshold alert.
        var alerts = await Eventually.Until(() => Alerts(_client, $"entityId={id}"), a => a.Count >= 2, TimeSpan.FromSeconds(30));
        var kinds = alerts.Select(a => (string)a!["kind"]!).ToHashSet();
        Assert.Contains("forecastBudgetBreach", kinds);
        Assert.Contains("budgetThreshold", kinds);
    }

    [Fact]
    public async Task AForecastNeedsADayOfHistory()
    {
        var id = $"short-{Guid.NewGuid():N}"[..20];
        await _client.PostTelemetry(Event("costcenter", id, "cost", 3, DateTimeOffset.UtcNow.AddHours(-2)));
        await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/costcenters/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 1);
        var r = await _client.GetAsync($"/api/v1/costcenters/{id}/forecast");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        Assert.Contains("24 hours", (string)(await r.ReadJson())["detail"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/v1/costcenters/never-seen/forecast")).StatusCode);
    }

    [Fact]
    public async Task AFailedPipelineRunRaisesAnAlertThatASuccessfulRunResolves()
    {
        var id = $"etl-{Guid.NewGuid():N}"[..20];
        var now = DateTimeOffset.UtcNow;
        await _client.PostTelemetry(Event("pipeline", id, "run.failure", 1, now.AddMinutes(-2)));
        var open = await Eventually.Until(() => Alerts(_client, $"entityId={id}&kind=pipelineFailure"), a => a.Count == 1);
        Assert.Equal("high", (string)open[0]!["severity"]!);
        await _client.PostTelemetry(Event("pipeline", id, "run.success", 1, now.AddMinutes(-1)));
        await Eventually.Until(() => Alerts(_client, $"entityId={id}&kind=pipelineFailure&state=resolved"), a => a.Count == 1, TimeSpan.FromSeconds(30));
    }
}
