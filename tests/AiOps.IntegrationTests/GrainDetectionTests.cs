using System.Text.Json.Nodes;
using AiOps.Intelligence;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// The detectors in the entity grains, with trainings inside the grain's turn (<c>AiOps:Grains:InlineDetectorTraining</c>):
/// their scores are those of the same detector run in process, and they alarm at the server's threshold.
/// </summary>
public sealed class GrainDetectionTests : IClassFixture<GrainDetectionTests.App>
{
    public sealed class App : IAsyncLifetime
    {
        public AiOpsAppFactory Factory { get; } = new(settings: new Dictionary<string, string?>
        {
            ["AiOps:Grains:InlineDetectorTraining"] = "true",
        });
        public HttpClient Client { get; private set; } = null!;
        public Task InitializeAsync() { Client = Factory.CreateClient(); return Task.CompletedTask; }
        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    private readonly HttpClient _client;

    public GrainDetectionTests(App app) => _client = app.Client;

    private static (DateTimeOffset At, double Value)[] RampedShift(int seed, int n, int at, int ramp, double shift)
    {
        // level 10, noise sd 1, 5-minute points; from `at` the level rises by `shift` linearly over `ramp` points
        var rng = new Random(seed);
        var start = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddMinutes(-5 * (n + 10)).ToUnixTimeSeconds() * 1000);
        return Enumerable.Range(0, n).Select(t =>
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double noise = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            return (start.AddMinutes(5 * t), 10 + noise + (t < at ? 0 : shift * Math.Min(1.0, (t - at + 1.0) / ramp)));
        }).ToArray();
    }

    private Task<JsonArray> AlertsOf(string id) => IntelligenceApiTests.Alerts(_client, $"entityId={id}");

    /// <summary>
    /// A series' points delivered together (here one request) out of time order are put in order first, so every one of them
    /// is scored and kept in the raw window. Applied in arrival order, only the running maxima were (5 of these 40:
    /// a point older than its series' newest is late, counted in the rollups only).
    /// </summary>
    [Fact]
    public async Task PointsDeliveredTogetherOutOfTimeOrderAreAllScored()
    {
        var id = $"order-{Guid.NewGuid():N}"[..20];
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds());
        var rng = new Random(7);
        var order = Enumerable.Range(0, 40).OrderBy(_ => rng.Next()).ToArray();
        Assert.NotEqual(Enumerable.Range(0, 40), order);
        var events = order.Select(t => Event("model", id, "latency_ms", 10 + t % 5, start.AddMinutes(t))).ToArray();
        await _client.PostTelemetry(events);
        await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 40);

        var raw = await _client.GetJsonOrNull($"/api/v1/models/{id}/metrics/latency_ms?resolution=raw");
        var points = raw!["points"]!.AsArray();
        Assert.Equal(40, points.Count);
        Assert.All(points, p => Assert.NotNull(p!["anomalyScore"]));
        var times = points.Select(p => DateTimeOffset.Parse((string)p!["timestamp"]!)).ToArray();
        Assert.Equal(times.Order(), times);
    }

    [Fact]
    public async Task AGradualIncidentIsAlertedWhenItReachesTheAlarmThresholdWithTheScoresOfTheSameDetectorInProcess()
    {
        // At point 3,000 the level rises by 8 noise sd over 60 points. Scored in process with the refractory period from
        // 0.8 (the grains' threshold) the shift peaks at 0.92; from 0.5 (the CLI's default) at 0.56, and no alert.
        var id = $"ramp-{Guid.NewGuid():N}"[..20];
        var series = RampedShift(seed: 33, n: 3100, at: 3000, ramp: 60, shift: 8);
        var events = series.Select(p => Event("model", id, "latency_ms", p.Value, p.At)).ToArray();
        var inProcess = new AnomalyDetector { AlarmScore = 0.8 };
        var expected = series.Select(p => inProcess.Score(p.At.UtcDateTime, p.Value)).ToArray();

        async Task Send(int from, int count)
        {
            await _client.PostTelemetry(events[from..(from + count)]);
            await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == from + count);
        }
        for (int from = 0; from < 3000; from += 500) await Send(from, 500);
        Assert.Empty(await AlertsOf(id));

        var scores = new List<double>(); // the shift's scores as the grain reports them (the raw series keeps 64 points)
        for (int from = 3000; from < 3100; from += 20)
        {
            await Send(from, 20);
            var raw = await _client.GetJsonOrNull($"/api/v1/models/{id}/metrics/latency_ms?resolution=raw");
            scores.AddRange(raw!["points"]!.AsArray().TakeLast(20).Select(p => p!["anomalyScore"]!.GetValue<double>()));
        }
        // the series API rounds scores to 4 decimals: equal up to that rounding
        for (int k = 0; k < scores.Count; k++)
            Assert.True(Math.Abs(scores[k] - expected[3000 + k]) <= 6e-5, $"point {3000 + k}: the grain scored {scores[k]}, in process {expected[3000 + k]:F4}");
        Assert.True(expected.Skip(3000).Max() >= 0.8);

        var alerts = await Eventually.Until(() => AlertsOf(id), a => a.Count >= 1);
        Assert.Equal("metricAnomaly", (string)alerts[0]!["kind"]!);
        Assert.Equal("latency_ms", (string)alerts[0]!["metric"]!);
        Assert.True((double)alerts[0]!["maxScore"]! >= 0.8, alerts[0]!.ToJsonString());
        Assert.True((double)alerts[0]!["lastValue"]! > 12, alerts[0]!.ToJsonString()); // raised by the shift, not by the noise before it
    }

    [Fact]
    public async Task AnEntityOnLocalTimeIsScoredOnItsClockAcrossADaylightSavingChange()
    {
        // Daytime activity on Berlin's clock (AiOps.UnitTests.Synthetic.LocalDaytime), 5-minute readings stamped in UTC,
        // three weeks before the 2026 spring change and two days after it. Two models receive the same series; one is
        // registered with its time zone. Known answer (SyntheticFamilyTests): the first morning after the change alarms
        // without the zone (its profile moved by an hour in UTC), not with it.
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var change = new DateTime(2026, 3, 29, 1, 0, 0, DateTimeKind.Utc);
        var step = TimeSpan.FromMinutes(5);
        var points = AiOps.UnitTests.Synthetic.LocalDaytime(23 * 288, 31, change - TimeSpan.FromDays(21) - TimeSpan.FromHours(1), step, zone);
        int first = Array.FindIndex(points, p => p.Utc >= change);
        double[] InProcess(TimeZoneInfo? localTime)
        {
            var d = new AnomalyDetector { AlarmScore = 0.8, LocalTime = localTime };
            return points.Select(p => d.Score(p.Utc, p.Value)).ToArray();
        }
        var zoned = InProcess(zone);
        var utc = InProcess(null);
        Assert.True(zoned.Max() < 0.8, $"the zoned detector alarmed: {zoned.Max():F3}");
        Assert.True(utc[..first].Max() < 0.8 && utc[first..].Max() >= 0.8, $"before the change {utc[..first].Max():F3}, after {utc[first..].Max():F3}");

        var id = $"tz-{Guid.NewGuid():N}"[..20];
        var twin = $"utc-{Guid.NewGuid():N}"[..20];
        var bad = await _client.PutJson($"/api/v1/models/{id}", new { timeZone = "Mars/Olympus_Mons" });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotNull((await bad.ReadJson())["errors"]!["timeZone"]);
        var put = await _client.PutJson($"/api/v1/models/{id}", new { timeZone = "Europe/Berlin" });
        Assert.Equal(System.Net.HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("Europe/Berlin", (string?)(await _client.GetJsonOrNull($"/api/v1/models/{id}"))!["metadata"]!["timeZone"]);

        JsonObject[] Events(string entity, int from, int count) =>
            points[from..(from + count)].Select(p => Event("model", entity, "requests", p.Value, new DateTimeOffset(p.Utc))).ToArray();
        async Task Send(string entity, int from, int count)
        {
            await _client.PostTelemetry(Events(entity, from, count));
            await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{entity}"), j => j?["eventsApplied"]?.GetValue<long>() == from + count);
        }
        for (int from = 0; from < first; from += Math.Min(500, first - from))
        {
            await Send(id, from, Math.Min(500, first - from));
            await Send(twin, from, Math.Min(500, first - from));
        }
        // after the change, the zoned model's every score is the zoned detector's (the raw series keeps 64 points)
        for (int from = first; from < points.Length; from += 64)
            await _client.SendAndCompareScores($"/api/v1/models/{id}", "requests", Events(id, from, Math.Min(64, points.Length - from)), from, zoned,
                "the model registered with its zone (the zoned detector in process: expected)");
        await Send(twin, first, points.Length - first);

        var twinAlerts = await Eventually.Until(() => AlertsOf(twin), a => a.Count >= 1);
        Assert.Equal("metricAnomaly", (string)twinAlerts[0]!["kind"]!);
        Assert.Empty(await AlertsOf(id));
    }
}
