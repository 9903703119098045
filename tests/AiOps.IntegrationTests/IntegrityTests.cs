using System.Net;
using System.Net.Http.Json;
using AiOps.Server.Alerting;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// Inputs that used to corrupt state: each gets a 4xx naming the field, and every other entity is intact
/// across a restart on the same SQLite file.
/// </summary>
public sealed class IntegrityTests(IngestionApiTests.App shared) : IClassFixture<IngestionApiTests.App>
{
    private static string CostEvent(string id, string value) =>
        $$"""{"entity":{"kind":"costcenter","id":"{{id}}"},"metric":"cost","value":{{value}}}""";

    [Fact]
    public async Task ValuesWhoseSumWouldOverflowAreRejectedAndNothingElseIsLost()
    {
        var data = TempDirectory.Create("aiops-overflow");
        const string huge = "1.7976931348623157e308";
        await using (var app = new AiOpsAppFactory(data))
        {
            var client = app.CreateClient();
            await client.PostTelemetry(Event("costcenter", "cc-ok", "cost", 12.5));

            var wholly = await client.PostAsync("/api/v1/telemetry", Raw($"[{CostEvent("cc-big", huge)},{CostEvent("cc-big", huge)}]"));
            Assert.Equal(HttpStatusCode.BadRequest, wholly.StatusCode);
            var problem = await wholly.ReadJson();
            Assert.True(problem["errors"]!.AsObject().ContainsKey("[0].value"), problem.ToJsonString());

            var mixed = await client.PostAsync("/api/v1/telemetry", Raw($"[{CostEvent("cc-ok", "7.5")},{CostEvent("cc-big", huge)},{CostEvent("cc-big", "-1e16")}]"));
            Assert.Equal(HttpStatusCode.Accepted, mixed.StatusCode);
            var reply = await mixed.ReadJson();
            Assert.Equal(1, (int)reply["accepted"]!);
            Assert.Equal(["value", "value"], reply["rejections"]!.AsArray().Select(r => (string)r!["field"]!));

            var center = await Eventually.Until(() => client.GetJsonOrNull("/api/v1/costcenters/cc-ok"), j => j?["eventsApplied"]?.GetValue<long>() == 2);
            Assert.Equal(20.0, (double)center!["costMonthToDate"]!);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/value")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/costcenters")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/costcenters/cc-big")).StatusCode);
        }

        await using var again = new AiOpsAppFactory(data);
        var second = again.CreateClient();
        var restored = await second.GetJsonOrNull("/api/v1/costcenters/cc-ok");
        Assert.NotNull(restored);
        Assert.Equal(2, (long)restored!["eventsApplied"]!);
        Assert.Equal(20.0, (double)restored["costMonthToDate"]!);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/v1/value")).StatusCode);
    }

    [Fact]
    public async Task OneIdUnderTwoKindsIsTwoEntitiesAcrossARestart()
    {
        var data = TempDirectory.Create("aiops-kinds");
        await using (var app = new AiOpsAppFactory(data))
        {
            var client = app.CreateClient();
            await client.PostTelemetry(Event("pipeline", "same-1", "rows.in", 5));
            await client.PostTelemetry(Event("model", "same-1", "predictions", 7));
            await Eventually.Until(() => client.GetJsonOrNull("/api/v1/models/same-1"), j => j?["eventsApplied"]?.GetValue<long>() == 1);
            await Eventually.Until(() => client.GetJsonOrNull("/api/v1/pipelines/same-1"), j => j?["eventsApplied"]?.GetValue<long>() == 1);
        } // graceful stop: both grains save

        await using var again = new AiOpsAppFactory(data);
        var second = again.CreateClient();
        var pipeline = await second.GetJsonOrNull("/api/v1/pipelines/same-1");
        var model = await second.GetJsonOrNull("/api/v1/models/same-1");
        Assert.Equal(["rows.in:5"], MetricTotals(pipeline));
        Assert.Equal(["predictions:7"], MetricTotals(model));
    }

    [Fact]
    public async Task ADataFolderWrittenByTheNovember2026ReleaseStillLoads()
    {
        // Written by the release before kinds had their own storage names: every kind's row under the state name "entity".
        var data = TempDirectory.Create("aiops-legacy");
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "TestData", "data-2026-11")))
            File.Copy(file, Path.Combine(data, Path.GetFileName(file)));

        await using (var app = new AiOpsAppFactory(data))
        {
            var client = app.CreateClient();
            // Asked first: a model under the pipeline's id must not take the pipeline's row (rows.in is a pipeline metric).
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/models/p-legacy")).StatusCode);
            await AssertLegacyEntitiesAsync(client);

            // The restored event-id window still recognises a retried event.
            await client.PostTelemetry(Event("model", "m-legacy", "predictions", 1, eventId: "m-59"));
            await Eventually.Until(() => client.GetJsonOrNull("/api/v1/models/m-legacy"), j => j?["duplicatesDropped"]?.GetValue<long>() == 1);
        }

        // Written back under each kind's own name: still there after another restart.
        await using var again = new AiOpsAppFactory(data);
        await AssertLegacyEntitiesAsync(again.CreateClient());
    }

    private static async Task AssertLegacyEntitiesAsync(HttpClient client)
    {
        var pipeline = await client.GetJsonOrNull("/api/v1/pipelines/p-legacy");
        Assert.NotNull(pipeline);
        Assert.Equal(61, (long)pipeline!["eventsApplied"]!);
        Assert.Equal(3600.0, (double)pipeline["metadata"]!["freshnessSlaSeconds"]!);
        Assert.Equal(["rows.in:7770", "run.success:1"], MetricTotals(pipeline));

        var model = await client.GetJsonOrNull("/api/v1/models/m-legacy");
        Assert.NotNull(model);
        Assert.Equal(60, (long)model!["eventsApplied"]!);
        Assert.Equal("cc-legacy", (string)model["metadata"]!["costCenterId"]!);
        Assert.Equal(["predictions:2370"], MetricTotals(model));

        var center = await client.GetJsonOrNull("/api/v1/costcenters/cc-legacy");
        Assert.NotNull(center);
        Assert.Equal(60, (long)center!["eventsApplied"]!);
        Assert.Equal(500.0, (double)center["metadata"]!["monthlyBudget"]!);
        Assert.Equal(["cost:75"], MetricTotals(center));
    }

    private static string[] MetricTotals(JsonNode? entity) =>
        entity!["metrics"]!.AsArray().Select(m => $"{(string)m!["name"]!}:{(double)m["total"]!:G}").ToArray();

    public static TheoryData<string, string> NotUtf8Bodies => new()
    {
        // body (\xFF stands for one raw 0xFF byte; \ud800 is a JSON escape of a lone surrogate), the field the problem must name
        { """{"entity":{"kind":"model","id":"\xFFa"},"metric":"predictions","value":1}""", "[0].entity.id" },
        { """{"entity":{"kind":"model","id":"ok-1"},"metric":"predictions","value":1,"id":"e\xFF"}""", "[0].id" },
        { """{"entity":{"kind":"model","id":"ok-1"},"metric":"pr\xFFed","value":1}""", "[0].metric" },
        { """{"entity":{"kind":"mo\xFFdel","id":"ok-1"},"metric":"predictions","value":1}""", "[0].entity.kind" },
        { """{"entity":{"kind":"model","id":"ok-1"},"metric":"predictions","value":1,"attributes":{"v":"\xFF"}}""", "[0].attributes.v" },
        { """{"entity":{"kind":"model","id":"ok-1"},"metric":"predictions","value":1,"attributes":{"\xFF":"x"}}""", "[0].attributes" },
        { """{"entity":{"kind":"model","id":"\ud800"},"metric":"predictions","value":1}""", "[0].entity.id" },
        { """{"entity":{"kind":"model","id":"ok-1"},"metric":"predictions","value":1,"id":"a\udc00b"}""", "[0].id" },
        { """{"entity":{"kind":"model","id":"ok-1"},"metric":"predictions","value":1,"timestamp":"2026-01-01T00:00:00\ud800Z"}""", "[0].timestamp" },
        // Found by FuzzTests: a lone surrogate in a property name or a matched value made the reader throw (500).
        { """{"entity":{"kind":"model","\ud800":"ok-1"},"metric":"predictions","value":1}""", "[0].entity.id" },
        { """{"entity":{"kind":"\ud800","id":"ok-1"},"metric":"predictions","value":1}""", "[0].entity.kind" },
        { """{"entity":{"kind":"model","id":"ok-1"},"metric":"predictions","\ud800":1}""", "[0].value" },
    };

    [Theory]
    [MemberData(nameof(NotUtf8Bodies))]
    public async Task StringsThatAreNotUtf8AreA400NamingTheField(string body, string field)
    {
        var client = shared.Client;
        var bytes = Latin1ToBytes(body);
        var r = await client.PostAsync("/api/v1/telemetry", new ByteArrayContent(bytes) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var problem = await r.ReadJson();
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/models/ok-1")).StatusCode);

        // The same bytes in a metadata document are a 400 too, and nothing is registered.
        var put = await client.PutAsync("/api/v1/models/ok-2", new ByteArrayContent(Latin1ToBytes("""{"team":"\xFF"}""")) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/models/ok-2")).StatusCode);
    }

    /// <summary>"\xFF" in the text becomes the single byte 0xFF; everything else is ASCII.</summary>
    private static byte[] Latin1ToBytes(string text) => System.Text.Encoding.Latin1.GetBytes(text.Replace("\\xFF", "\u00FF"));

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://127.0.0.1:9/")]
    [InlineData("http://[::1]:9/")]
    [InlineData("http://[::ffff:127.0.0.1]:9/")]
    [InlineData("http://localhost:9/")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://172.20.0.5/hook")]
    [InlineData("http://192.168.1.10/hook")]
    [InlineData("http://100.64.0.1/hook")]
    [InlineData("http://0.0.0.0:9/")]
    [InlineData("http://[fe80::1]/hook")]
    [InlineData("http://[fd00::1]/hook")]
    public async Task WebhooksToInternalAddressesAreRefusedAtRegistration(string url)
    {
        var operatorClient = await shared.Factory.CreateClientWithRoleAsync("operator");
        var r = await operatorClient.PostAsJsonAsync("/api/v1/webhooks", new { url });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var problem = await r.ReadJson();
        Assert.True(problem["errors"]!.AsObject().ContainsKey("url"), problem.ToJsonString());
        var listed = (await shared.Client.GetJsonOrNull("/api/v1/webhooks"))!.AsArray();
        Assert.DoesNotContain(listed, w => (string)w!["url"]! == new Uri(url).AbsoluteUri);
    }

    [Fact]
    public async Task ADeliveryNeverConnectsToAnInternalAddressUnlessAllowed()
    {
        // The receiver is on loopback: with the default policy the connection is refused before any packet is sent.
        await using var receiver = await Alerts.WebhookReceiver.StartAsync();
        using (var refused = new HttpClient(new SocketsHttpHandler { ConnectCallback = new WebhookTargetPolicy([]).ConnectAsync }))
        {
            var ex = await Assert.ThrowsAsync<HttpRequestException>(() => refused.PostAsync(receiver.Url, new StringContent("{}")));
            Assert.Contains("refused", ex.Message);
            // A name resolving to loopback is refused the same way (what a rebinding DNS answer would look like).
            var byName = new UriBuilder(receiver.Url) { Host = "localhost" }.Uri;
            await Assert.ThrowsAsync<HttpRequestException>(() => refused.PostAsync(byName, new StringContent("{}")));
        }
        Assert.Equal(0, receiver.Requests);

        using var allowed = new HttpClient(new SocketsHttpHandler { ConnectCallback = new WebhookTargetPolicy(["127.0.0.0/8"]).ConnectAsync });
        await allowed.PostAsync(receiver.Url, new StringContent("{}"));
        Assert.Equal(1, receiver.Requests);
    }
}
