using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>Every bad request gets a 4xx with RFC 9457 problem details naming the field, and changes nothing.</summary>
public sealed class BadInputTests : IClassFixture<IngestionApiTests.App>
{
    private readonly HttpClient _client;

    public BadInputTests(IngestionApiTests.App app) => _client = app.Client;

    private const string Valid = """{"entity":{"kind":"model","id":"ENTITY"},"metric":"predictions","value":1}""";

    public static TheoryData<string, string, string> WhollyBadBodies => new()
    {
        // name, body (ENTITY is replaced by a fresh id used by the valid event in it), field named in the problem
        { "malformed JSON after a valid event", $"[{Valid}, {{\"entity\": ", "body" },
        { "trailing garbage", $"[{Valid}] x", "body" },
        { "NaN literal", $"[{Valid}, {{\"entity\":{{\"kind\":\"model\",\"id\":\"a\"}},\"metric\":\"predictions\",\"value\":NaN}}]", "body" },
        { "Infinity literal", $"[{Valid}, {{\"entity\":{{\"kind\":\"model\",\"id\":\"a\"}},\"metric\":\"predictions\",\"value\":Infinity}}]", "body" },
        { "empty array", "[]", "body" },
        { "empty body", "", "body" },
        { "wrong type for value", """[{"entity":{"kind":"model","id":"ENTITY"},"metric":"predictions","value":"1"}]""", "[0].value" },
        { "NaN as a string", """[{"entity":{"kind":"model","id":"ENTITY"},"metric":"predictions","value":"NaN"}]""", "[0].value" },
        { "number too large for a double", """[{"entity":{"kind":"model","id":"ENTITY"},"metric":"predictions","value":1e999}]""", "[0].value" },
        { "missing value", """[{"entity":{"kind":"model","id":"ENTITY"},"metric":"predictions"}]""", "[0].value" },
        { "missing metric", """[{"entity":{"kind":"model","id":"ENTITY"},"value":1}]""", "[0].metric" },
        { "missing entity", """[{"metric":"predictions","value":1}]""", "[0].entity.kind" },
        { "unknown kind", """[{"entity":{"kind":"warehouse","id":"ENTITY"},"metric":"cost","value":1}]""", "[0].entity.kind" },
        { "id with a slash", """[{"entity":{"kind":"model","id":"a/b"},"metric":"predictions","value":1}]""", "[0].entity.id" },
        { "id with a control character", """[{"entity":{"kind":"model","id":"a\u0001b"},"metric":"predictions","value":1}]""", "[0].entity.id" },
        { "over-long id", $$"""[{"entity":{"kind":"model","id":"{{new string('a', 129)}}"},"metric":"predictions","value":1}]""", "[0].entity.id" },
        { "over-long event id", $$"""[{"entity":{"kind":"model","id":"ENTITY"},"id":"{{new string('e', 129)}}","metric":"predictions","value":1}]""", "[0].id" },
        { "timestamp without offset", """[{"entity":{"kind":"model","id":"ENTITY"},"metric":"predictions","value":1,"timestamp":"2026-01-01T00:00:00"}]""", "[0].timestamp" },
        { "timestamp far in the future", """[{"entity":{"kind":"model","id":"ENTITY"},"metric":"predictions","value":1,"timestamp":"2999-01-01T00:00:00Z"}]""", "[0].timestamp" },
        { "metric of another domain", """[{"entity":{"kind":"pipeline","id":"ENTITY"},"metric":"predictions","value":1}]""", "[0].metric" },
        { "metric name with spaces", """[{"entity":{"kind":"model","id":"ENTITY"},"metric":"my metric","value":1}]""", "[0].metric" },
        { "event that is not an object", "[1, 2]", "[0].event" },
        { "attribute value that is an object", """[{"entity":{"kind":"model","id":"ENTITY"},"metric":"predictions","value":1,"attributes":{"version":{"a":1}}}]""", "[0].attributes.version" },
    };

    [Theory]
    [MemberData(nameof(WhollyBadBodies))]
    public async Task AWhollyBadBodyGetsProblemDetailsAndAppliesNothing(string name, string body, string field)
    {
        var entity = $"bad-{Guid.NewGuid():N}"[..24];
        var r = await _client.PostAsync("/api/v1/telemetry", Raw(body.Replace("ENTITY", entity)));

        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{name}: got {(int)r.StatusCode}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var problem = await r.ReadJson();
        Assert.Equal(400, (int)problem["status"]!);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), $"{name}: problem should name '{field}': {problem.ToJsonString()}");

        await Task.Delay(300); // longer than a flush: had anything been published, it would have landed
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/v1/models/{entity}")).StatusCode);
    }

    [Fact]
    public async Task ABodyOverTheSizeLimitGets413()
    {
        var big = new StringBuilder("[");
        var e = Event("model", "big", "predictions", 1).ToJsonString();
        while (big.Length < 17 * 1024 * 1024) big.Append(e).Append(',');
        big.Append(e).Append(']');
        var r = await _client.PostAsync("/api/v1/telemetry", Raw(big.ToString()));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/v1/models/big")).StatusCode);
    }

    [Fact]
    public async Task MoreEventsThanTheBatchLimitAreRefusedWhole()
    {
        var entity = $"many-{Guid.NewGuid():N}"[..24];
        var events = Enumerable.Range(0, 10_001).Select(_ => Event("model", entity, "predictions", 1)).ToArray();
        var r = await _client.PostAsync("/api/v1/telemetry", Body(events));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var problem = await r.ReadJson();
        Assert.Contains("10000", (string)problem["detail"]!);
        await Task.Delay(300);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/v1/models/{entity}")).StatusCode);
    }

    [Fact]
    public async Task AnUnsupportedMediaTypeOrEncodingGets415()
    {
        var r = await _client.PostAsync("/api/v1/telemetry", Raw("<events/>", "application/xml"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        Assert.Equal("Content-Type", (string)(await r.ReadJson())["field"]!);

        var c = Raw("[]");
        c.Headers.ContentEncoding.Add("br");
        var r2 = await _client.PostAsync("/api/v1/telemetry", c);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, r2.StatusCode);
    }

    [Fact]
    public async Task CorruptGzipGets400()
    {
        var c = new ByteArrayContent([0x1f, 0x8b, 1, 2, 3, 4, 5]);
        c.Headers.ContentType = new("application/json");
        c.Headers.ContentEncoding.Add("gzip");
        var r = await _client.PostAsync("/api/v1/telemetry", c);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
    }

    public static TheoryData<string, string, object, string> BadMetadata => new()
    {
        { "pipelines", "p1", new { monthlyBudget = 10.0 }, "monthlyBudget" },
        { "costcenters", "c1", new { monthlyBudget = -1.0 }, "monthlyBudget" },
        { "models", "m1", new { maxErrorRate = 2.0 }, "maxErrorRate" },
        { "models", "m1", new { costCenterId = "a/b" }, "costCenterId" },
        { "costcenters", "c1", new { currency = "dollars" }, "currency" },
        { "pipelines", "p1", new { name = new string('n', 201) }, "name" },
        { "pipelines", "p1", new { freshnessSlaSeconds = 0.0 }, "freshnessSlaSeconds" },
        { "pipelines", "bad%01id", new { name = "x" }, "id" },
    };

    [Theory]
    [MemberData(nameof(BadMetadata))]
    public async Task InvalidMetadataIsRefusedWithTheFieldNamedAndNothingChanges(string plural, string id, object body, string field)
    {
        var r = await _client.PutJson($"/api/v1/{plural}/{id}", body);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var problem = await r.ReadJson();
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
        if (field != "id") Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/v1/{plural}/{id}")).StatusCode);
    }

    [Fact]
    public async Task MalformedMetadataJsonGets400NotA500()
    {
        var r = await _client.PutAsync("/api/v1/models/m2", Raw("{\"maxErrorRate\": \"high\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var r2 = await _client.PutAsync("/api/v1/models/m2", Raw("{"));
        Assert.Equal(HttpStatusCode.BadRequest, r2.StatusCode);
    }

    [Theory]
    [InlineData("/api/v1/models?limit=0", "limit")]
    [InlineData("/api/v1/models?limit=100000", "limit")]
    [InlineData("/api/v1/models?offset=-1", "offset")]
    [InlineData("/api/v1/models/m/metrics/latency_ms?resolution=week", "resolution")]
    [InlineData("/api/v1/models/m/metrics/BAD", "metric")]
    public async Task BadQueryParametersAreNamed(string url, string field)
    {
        var r = await _client.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.True((await r.ReadJson())["errors"]!.AsObject().ContainsKey(field));
    }
}
