using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Alerts;
using AiOps.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>Freshness is a deadline: it fires when the SLA passes, whether the pipeline's grain is active or not, and across a restart.</summary>
public sealed class FreshnessTests
{
    private static readonly Dictionary<string, string?> Fast = new()
    {
        ["AiOps:Grains:RuleCheckInterval"] = "00:00:00.200",
        ["AiOps:Alerts:IndexFlushInterval"] = "00:00:00.100",
    };

    private static bool Breached(JsonArray alerts) => alerts.Any(a => (string?)a!["kind"] == "freshnessBreach");

    [Fact]
    public async Task AFreshnessBreachFiresForAPipelineWhoseGrainWasCollected()
    {
        await using var app = new AiOpsAppFactory(settings: Fast);
        var client = app.CreateClient();
        await client.PutJson("/api/v1/pipelines/nightly", new { freshnessSlaSeconds = 3 });
        await client.PostTelemetry(Event("pipeline", "nightly", "run.success", 1));
        await Eventually.Until(() => client.GetJsonOrNull("/api/v1/pipelines/nightly"), j => (bool?)j?["pipeline"]?["fresh"] == true);
        await Task.Delay(500); // a digest tick has told the schedule the deadline

        // Every idle activation is collected, as Orleans does after 15 idle minutes: the pipeline's timers stop with it.
        var management = app.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.FromMilliseconds(1));

        var alerts = await Eventually.Until(() => client.ListAlerts("entityId=nightly"), Breached, TimeSpan.FromSeconds(20), "freshness breach of a collected pipeline");
        var breach = alerts.First(a => (string?)a!["kind"] == "freshnessBreach")!;
        Assert.Contains("SLA 3 s", (string)breach["summary"]!);
    }

    [Fact]
    public async Task AFreshnessDeadlineSurvivesARestartAndAPipelineThatNeverRanIsStaleOnlyOnceItsSlaHasPassed()
    {
        var data = TempDirectory.Create("aiops-fresh");
        await using (var first = new AiOpsAppFactory(data, Fast))
        {
            var client = first.CreateClient();
            await client.PutJson("/api/v1/pipelines/hourly", new { freshnessSlaSeconds = 4 });
            await client.PutJson("/api/v1/pipelines/never-ran", new { freshnessSlaSeconds = 4 });
            await client.PostTelemetry(Event("pipeline", "hourly", "run.success", 1));
            var neverRan = await client.GetJsonOrNull("/api/v1/pipelines/never-ran");
            Assert.True((bool?)neverRan!["pipeline"]!["fresh"] == true, neverRan.ToJsonString()); // not stale from the moment it is registered
            Assert.Empty(await client.ListAlerts("entityId=never-ran"));
            await Task.Delay(500);
        } // graceful stop: the schedule is saved

        await using var again = new AiOpsAppFactory(data, Fast);
        var after = again.CreateClient();
        // Nothing touches the pipelines after the restart: only the persisted deadlines can wake them.
        await Eventually.Until(() => after.ListAlerts("entityId=hourly"), Breached, TimeSpan.FromSeconds(20), "breach after restart");
        var alerts = await Eventually.Until(() => after.ListAlerts("entityId=never-ran"), Breached, TimeSpan.FromSeconds(20), "breach of a pipeline that never ran");
        Assert.Contains("since the freshness SLA of 4 s was set", (string)alerts.First(a => (string?)a!["kind"] == "freshnessBreach")!["summary"]!);
    }
}
