using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

public sealed class IngestionApiTests : IClassFixture<IngestionApiTests.App>
{
    public sealed class App : IAsyncLifetime
    {
        public AiOpsAppFactory Factory { get; } = new();
        public HttpClient Client { get; private set; } = null!;
        public Task InitializeAsync() { Client = Factory.CreateClient(); return Task.CompletedTask; }
        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    private readonly HttpClient _client;
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    public IngestionApiTests(App app) => _client = app.Client;

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task PipelineRunsFailuresDurationsAndRowsLandInThePipelineSummary()
    {
        var id = NewId("etl");
        var reply = await _client.PostTelemetry(
            Event("pipeline", id, "run.success", 1, Now.AddMinutes(-30)),
            Event("pipeline", id, "run.duration_seconds", 120, Now.AddMinutes(-30)),
            Event("pipeline", id, "rows.out", 5000, Now.AddMinutes(-30)),
            Event("pipeline", id, "run.failure", 1, Now.AddMinutes(-20)),
            Event("pipeline", id, "run.success", 1, Now.AddMinutes(-10)),
            Event("pipeline", id, "run.duration_seconds", 100, Now.AddMinutes(-10)),
            Event("pipeline", id, "rows.out", 7000, Now.AddMinutes(-10)));
        Assert.Equal(7, (int)reply["accepted"]!);

        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/pipelines/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 7);
        var p = s!["pipeline"]!;
        Assert.Equal(3, (int)p["runsTotal"]!);
        Assert.Equal(1, (int)p["failuresTotal"]!);
        Assert.Equal(100, (double)p["lastDurationSeconds"]!);
        Assert.Equal(12000, (double)p["rowsOutTotal"]!);
        Assert.Equal(Now.AddMinutes(-10).ToUnixTimeSeconds(), DateTimeOffset.Parse((string)p["lastSuccessAt"]!).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task ModelVersionPredictionsAndValueLandInTheModelSummary()
    {
        var id = NewId("model");
        var at = await ThisMonthAsync(2, TimeSpan.FromMinutes(5)); // the error rate is month to date
        await _client.PostTelemetry(
            Event("model", id, "predictions", 1000, at[0], attributes: new { version = "v1" }),
            Event("model", id, "errors", 10, at[0], attributes: new { version = "v1" }),
            Event("model", id, "predictions", 3000, at[1], attributes: new { version = "v2" }),
            Event("model", id, "latency_ms", 40, at[1]),
            Event("model", id, "value", 250, at[1]));

        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 5);
        var m = s!["model"]!;
        Assert.Equal("v2", (string)m["currentVersion"]!);
        Assert.Equal(2, m["versions"]!.AsArray().Count);
        Assert.Equal(4000, (double)m["predictionsTotal"]!);
        Assert.Equal(10.0 / 4000, (double)m["errorRateMonthToDate"]!, 6);
        Assert.Equal(250, (double)m["valueTotal"]!);
        Assert.True((bool)m["healthy"]!);
    }

    [Fact]
    public async Task CostCenterSpendIsBrokenDownByDayServiceAndResource()
    {
        var id = NewId("cc");
        var at = await ThisMonthAsync(3); // a fixed offset from the month's start once fell in the future
        var previous = new DateTimeOffset(at[0].Year, at[0].Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(-1);
        await _client.PostTelemetry(
            Event("costcenter", id, "cost", 10, at[0], attributes: new { service = "gpu", resource = "a100-1" }),
            Event("costcenter", id, "cost", 5, at[1], attributes: new { service = "storage", resource = "bucket" }),
            Event("costcenter", id, "cost", 7, at[2], attributes: new { service = "gpu", resource = "a100-2" }),
            Event("costcenter", id, "cost", 100, previous, attributes: new { service = "gpu" }));
        var put = await _client.PutJson($"/api/v1/costcenters/{id}", new { name = "ML platform", team = "ml", monthlyBudget = 44.0 });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/costcenters/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 4);
        var c = s!["costCenter"]!;
        Assert.Equal(22, (double)c["spendMonthToDate"]!);
        Assert.Equal(100, (double)c["spendPreviousMonth"]!);
        Assert.Equal(0.5, (double)c["budgetUsedRatio"]!, 6);
        var services = c["spendByServiceMonthToDate"]!.AsArray();
        Assert.Equal("gpu", (string)services[0]!["key"]!);
        Assert.Equal(17, (double)services[0]!["amount"]!);
        Assert.Equal(3, c["spendByResourceMonthToDate"]!.AsArray().Count);
        Assert.Equal("ML platform", (string)s["metadata"]!["name"]!);
    }

    [Fact]
    public async Task TheSameEventIdDeliveredTwiceCountsOnce()
    {
        var id = NewId("cc");
        var e = Event("costcenter", id, "cost", 3, Now.AddMinutes(-1), eventId: "bill-line-1");
        var first = await _client.PostTelemetry(e, e.DeepClone().AsObject());
        var again = await _client.PostTelemetry(e.DeepClone().AsObject(), Event("costcenter", id, "cost", 4, Now.AddMinutes(-1), eventId: "bill-line-2"));
        Assert.Equal(2, (int)first["accepted"]!);
        Assert.Equal(2, (int)again["accepted"]!);

        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/costcenters/{id}"),
            j => j?["eventsApplied"]?.GetValue<long>() + j?["duplicatesDropped"]?.GetValue<long>() == 4);
        Assert.Equal(2, (long)s!["eventsApplied"]!);
        Assert.Equal(2, (long)s["duplicatesDropped"]!);
        Assert.Equal(7, (double)s["costCenter"]!["spendTotal"]!);
    }

    [Fact]
    public async Task NdjsonAndGzipBodiesAreAccepted()
    {
        var id = NewId("ndj");
        var ndjson = string.Join("\n", Enumerable.Range(0, 10).Select(i => Event("model", id, "predictions", 1, Now.AddSeconds(-i)).ToJsonString()));
        var r1 = await _client.PostAsync("/api/v1/telemetry", Raw(ndjson + "\n", "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.Accepted, r1.StatusCode);

        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(Encoding.UTF8.GetBytes(new JsonArray(Event("model", id, "predictions", 5, Now)).ToJsonString()));
        }
        var content = new ByteArrayContent(ms.ToArray());
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        var r2 = await _client.PostAsync("/api/v1/telemetry", content);
        Assert.Equal(HttpStatusCode.Accepted, r2.StatusCode);

        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 11);
        Assert.Equal(15, (double)s!["model"]!["predictionsTotal"]!);
    }

    [Fact]
    public async Task SmallRequestsPublishedAtOnceAndBulkRequestsKeepEachEntitysOrder()
    {
        // Six producers, each with its own entity, alternate a one-event request (published at once when its
        // entity has nothing waiting) and a 200-event request (group commit) that also carries a point of that
        // entity. Each entity's points must arrive complete and in the order they were accepted: a late point
        // would only reach the rollups, so the raw series would come up short.
        var bulkPeer = NewId("peer");
        var producers = Enumerable.Range(0, 6).Select(p => NewId($"ord{p}")).ToArray();
        var start = Now.AddHours(-2);
        await Task.WhenAll(producers.Select(async id =>
        {
            for (var k = 0; k < 25; k++)
            {
                var small = await _client.PostTelemetry(Event("model", id, "latency_ms", 2 * k, start.AddMinutes(2 * k)));
                Assert.Equal(1, (int)small["accepted"]!);
                var bulk = Enumerable.Range(0, 199)
                    .Select(i => Event("pipeline", $"{bulkPeer}-{i}", "rows.out", i, start.AddMinutes(2 * k + 1)))
                    .Append(Event("model", id, "latency_ms", 2 * k + 1, start.AddMinutes(2 * k + 1)))
                    .ToArray();
                var reply = await _client.PostTelemetry(bulk);
                Assert.Equal(200, (int)reply["accepted"]!);
            }
        }));

        foreach (var id in producers)
        {
            await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 50);
            var raw = await (await _client.GetAsync($"/api/v1/models/{id}/metrics/latency_ms?limit=64")).ReadJson();
            var values = raw["points"]!.AsArray().Select(p => (double)p!["value"]!).ToArray();
            Assert.Equal(Enumerable.Range(0, 50).Select(v => (double)v), values);
        }
        await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/pipelines/{bulkPeer}-0"), j => j?["eventsApplied"]?.GetValue<long>() == 150);
    }

    [Fact]
    public async Task AMetricSeriesCanBeReadAtRawAndHourlyResolution()
    {
        var id = NewId("lat");
        var events = Enumerable.Range(0, 120).Select(i => Event("model", id, "latency_ms", i, Now.AddMinutes(-120 + i))).ToArray();
        await _client.PostTelemetry(events);
        await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 120);

        var raw = await (await _client.GetAsync($"/api/v1/models/{id}/metrics/latency_ms?limit=10")).ReadJson();
        var points = raw["points"]!.AsArray();
        Assert.Equal(10, points.Count);
        Assert.Equal(119, (double)points[^1]!["value"]!);
        var hourly = await (await _client.GetAsync($"/api/v1/models/{id}/metrics/latency_ms?resolution=hour")).ReadJson();
        Assert.Equal(120, hourly["points"]!.AsArray().Sum(p => (long)p!["count"]!));

        var unknown = await _client.GetAsync($"/api/v1/models/{id}/metrics/nope");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task TheValueViewJoinsSpendValueRunsAndPredictions()
    {
        // Its own app: the value view sums every entity, so other tests' telemetry would blur the figures.
        await using var factory = new AiOpsAppFactory();
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/api/v1/costcenters/cc-serving", new { monthlyBudget = 1000.0, team = "ml" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/api/v1/costcenters/cc-etl", new { monthlyBudget = 500.0, team = "data" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/api/v1/models/churn", new { costCenterId = "cc-serving", team = "ml", trainingPipelineId = "features" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/api/v1/pipelines/features", new { costCenterId = "cc-etl", team = "data", freshnessSlaSeconds = 3600.0 })).StatusCode);
        // Month-to-date figures and freshness: every time in this month and in the last 50 minutes.
        var at = await ThisMonthAsync(5, TimeSpan.FromMinutes(50));
        await client.PostTelemetry(
            Event("costcenter", "cc-serving", "cost", 200, at[0]),
            Event("costcenter", "cc-etl", "cost", 50, at[0]),
            Event("model", "churn", "predictions", 100_000, at[1]),
            Event("model", "churn", "value", 1000, at[1]),
            Event("pipeline", "features", "run.success", 1, at[2]),
            Event("pipeline", "features", "run.success", 1, at[3]),
            Event("pipeline", "features", "run.failure", 1, at[4]));

        var v = await Eventually.Until(() => client.GetJsonOrNull("/api/v1/value"), j => j?["eventsApplied"]?.GetValue<long>() == 7);
        Assert.Equal(250, (double)v!["spendMonthToDate"]!);
        Assert.Equal(1500, (double)v["budgetMonthly"]!);
        Assert.Equal(1000, (double)v["valueMonthToDate"]!);
        Assert.Equal((1000 - 250) / 250.0, (double)v["roi"]!, 6);
        Assert.Equal(200 / 100_000.0 * 1000, (double)v["costPer1kPredictions"]!, 6);
        Assert.Equal(50 / 3.0, (double)v["costPerPipelineRun"]!, 6);
        Assert.Equal(100, (double)v["pipelinesFreshPercent"]!);
        Assert.Equal(100, (double)v["modelsHealthyPercent"]!);
        Assert.Equal("cc-serving", (string)v["topCostDrivers"]![0]!["id"]!);
        Assert.Equal(1, (int)v["pipelines"]!);
        Assert.Equal(1, (int)v["models"]!);
        Assert.Equal(2, (int)v["costCenters"]!);

        var list = await (await client.GetAsync("/api/v1/costcenters?limit=1")).ReadJson();
        Assert.Equal(2, (int)list["total"]!);
        Assert.Single(list["items"]!.AsArray());
    }

    [Fact]
    public async Task APartlyValidBatchAppliesExactlyTheEventsItReportsAccepted()
    {
        var id = NewId("mix");
        var body = "[" + string.Join(",",
            Event("model", id, "predictions", 1, Now).ToJsonString(),
            """{"entity":{"kind":"model","id":"x"},"metric":"predictions","value":"7"}""",
            Event("model", id, "predictions", 2, Now).ToJsonString(),
            """{"entity":{"kind":"model","id":"y"},"metric":"run.success","value":1}""") + "]";
        var r = await _client.PostAsync("/api/v1/telemetry", Raw(body));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var j = await r.ReadJson();
        Assert.Equal(2, (int)j["accepted"]!);
        Assert.Equal(2, (int)j["rejected"]!);
        var rejections = j["rejections"]!.AsArray();
        Assert.Equal(1, (int)rejections[0]!["index"]!);
        Assert.Equal("value", (string)rejections[0]!["field"]!);
        Assert.Equal("metric", (string)rejections[1]!["field"]!);

        var s = await Eventually.Until(() => _client.GetJsonOrNull($"/api/v1/models/{id}"), x => x?["eventsApplied"]?.GetValue<long>() == 2);
        Assert.Equal(3, (double)s!["model"]!["predictionsTotal"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/v1/models/x")).StatusCode);
    }

    [Fact]
    public async Task TheOpenApiDocumentAndHealthEndpointsAreServed()
    {
        var doc = await (await _client.GetAsync("/openapi/v1.json")).ReadJson();
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/api/v1/telemetry", paths);
        Assert.Contains("/api/v1/value", paths);
        Assert.Contains("/api/v1/costcenters/{id}", paths);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/ready")).StatusCode);
    }
}
