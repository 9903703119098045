using System.Net;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// Inputs that used to corrupt state: each gets a 4xx naming the field, and every other entity is intact
/// across a restart on the same SQLite file.
/// </summary>
public sealed class IntegrityTests
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
}
