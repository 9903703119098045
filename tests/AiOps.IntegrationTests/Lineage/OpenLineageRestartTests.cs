using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;

namespace AiOps.IntegrationTests.Lineage;

public sealed class OpenLineageRestartTests
{
    private static JsonObject RunEvent(string type, Guid run, DateTimeOffset at, JsonArray inputs, JsonArray outputs) => new()
    {
        ["eventType"] = type,
        ["eventTime"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
        ["run"] = new JsonObject { ["runId"] = run.ToString() },
        ["job"] = new JsonObject { ["namespace"] = "etl", ["name"] = "orders" },
        ["inputs"] = inputs,
        ["outputs"] = outputs,
        ["producer"] = "https://example.test/producer",
        ["schemaURL"] = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    };

    private static Task<HttpResponseMessage> Post(HttpClient client, JsonNode body) =>
        client.PostAsync("/api/v1/lineage", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

    [Fact]
    public async Task GraphDatasetFactsAndOpenRunsSurviveARestart()
    {
        var data = TempDirectory.Create("aiops-lineage-restart");
        var run = Guid.NewGuid();
        var started = DateTimeOffset.UtcNow.AddMinutes(-10);
        var input = new JsonObject
        {
            ["namespace"] = "postgres://db:5432", ["name"] = "public.orders",
            ["facets"] = new JsonObject
            {
                ["schema"] = new JsonObject { ["fields"] = new JsonArray(new JsonObject { ["name"] = "id", ["type"] = "bigint" }) },
                ["ownership"] = new JsonObject { ["owners"] = new JsonArray(new JsonObject { ["name"] = "team:sales" }) },
            },
        };
        var start = RunEvent("START", run, started, new JsonArray(input.DeepClone()), []);
        var complete = RunEvent("COMPLETE", run, started.AddSeconds(75), [], new JsonArray(new JsonObject { ["namespace"] = "s3://lake", ["name"] = "orders_daily" }));

        await using (var first = new AiOpsAppFactory(data))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await Post(first.CreateClient(), start)).StatusCode);
            await Eventually.Until(() => first.CreateClient().GetJsonOrNull("/api/v1/pipelines/etl:orders"), s => s?["pipeline"]?["startedTotal"]?.GetValue<double>() == 1);
        } // graceful stop

        await using var second = new AiOpsAppFactory(data);
        var client = second.CreateClient();
        // The run's start was kept: its COMPLETE after the restart gets the duration.
        Assert.Equal(HttpStatusCode.Accepted, (await Post(client, complete)).StatusCode);
        var pipeline = await Eventually.Until(() => client.GetJsonOrNull("/api/v1/pipelines/etl:orders"), s => s?["pipeline"]?["successesTotal"]?.GetValue<long>() == 1);
        Assert.Equal(75, pipeline!["pipeline"]!["lastDurationSeconds"]!.GetValue<double>(), 3);

        // The graph learned before the restart is still there, joined with what came after it.
        var graph = (await client.GetJsonOrNull($"/api/v1/lineage?node={Uri.EscapeDataString("job:etl:orders")}&depth=1"))!;
        var job = graph["graph"]!.AsArray().First(n => (string?)n!["id"] == "job:etl:orders")!;
        Assert.Equal(["dataset:postgres://db:5432:public.orders"], job["inEdges"]!.AsArray().Select(e => (string)e!["origin"]!));
        Assert.Equal(["dataset:s3://lake:orders_daily"], job["outEdges"]!.AsArray().Select(e => (string)e!["destination"]!));
        var ordersId = (string)graph["graph"]!.AsArray().First(n => (string?)n!["id"] == "dataset:postgres://db:5432:public.orders")!["data"]!["entityId"]!;
        var orders = (await client.GetJsonOrNull($"/api/v1/datasets/{Uri.EscapeDataString(ordersId)}"))!["dataset"]!;
        Assert.Equal("bigint", (string?)orders["fields"]![0]!["type"]);
        Assert.Equal("team:sales", (string?)orders["owners"]![0]!["name"]);

        // Replaying both events after the restart counts nothing twice.
        Assert.Equal(HttpStatusCode.Accepted, (await Post(client, new JsonArray(start.DeepClone(), complete.DeepClone()))).StatusCode);
        var replayed = await Eventually.Until(() => client.GetJsonOrNull("/api/v1/pipelines/etl:orders"), s => s?["duplicatesDropped"]?.GetValue<long>() >= 2);
        Assert.Equal(1, replayed!["pipeline"]!["successesTotal"]!.GetValue<long>());
        Assert.Equal(1, replayed["pipeline"]!["startedTotal"]!.GetValue<double>());
    }
}
