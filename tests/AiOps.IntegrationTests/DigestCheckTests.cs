using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// An entity that receives nothing checks its digest and its unsaved state less and less often (each check that finds
/// nothing to do doubles the wait, up to <c>IdleCheckInterval</c>), a point brings both timers back to their periods at
/// once, and what is time-driven does not wait for the slow checks: a dataset going stale has a deadline of its own.
/// </summary>
[Collection(AloneCollection.Name)] // counts aiops_entity_timer_checks_total on its server's /metrics
public sealed partial class DigestCheckTests
{
    [GeneratedRegex(@"^aiops_entity_timer_checks_total\{([^}]*)\} (\S+)", RegexOptions.Multiline)]
    private static partial Regex ChecksLine();

    /// <summary>Checks run so far by the entity grains' digest and write-behind timers.</summary>
    private static async Task<(double Digest, double Write)> ChecksAsync(HttpClient client)
    {
        double digest = 0, write = 0;
        foreach (Match m in ChecksLine().Matches(await client.GetStringAsync("/metrics")))
        {
            var n = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            if (m.Groups[1].Value.Contains("timer=\"digest\"")) digest += n;
            else if (m.Groups[1].Value.Contains("timer=\"write\"")) write += n;
        }
        return (digest, write);
    }

    [Fact]
    public async Task AnIdleEntityChecksLessOftenAndAPointBringsItsTimersBack()
    {
        // Digest every 100 ms and write-behind every 100 ms while points arrive; idle, each wait doubles without a cap
        // worth speaking of (an hour).
        await using var app = new AiOpsAppFactory(settings: new Dictionary<string, string?>
        {
            ["AiOps:Grains:DigestInterval"] = "00:00:00.100",
            ["AiOps:Grains:PersistInterval"] = "00:00:00.100",
            ["AiOps:Grains:IdleCheckInterval"] = "01:00:00",
        });
        var client = app.CreateClient();
        await client.PostTelemetry(Event("model", "idle-model", "predictions", 10));
        await Eventually.Until(() => client.GetJsonOrNull("/api/v1/value"), j => j?["eventsApplied"]?.GetValue<long>() == 1);

        // Idle for 6 s: every 100 ms that is about 60 checks of each timer; doubling from 100 ms, about 6 (at 0.1, 0.3,
        // 0.7, 1.5, 3.1 and 6.3 s).
        var before = await ChecksAsync(client);
        await Task.Delay(TimeSpan.FromSeconds(6));
        var after = await ChecksAsync(client);
        var idle = (Digest: after.Digest - before.Digest, Write: after.Write - before.Write);
        Assert.InRange(idle.Digest, 1, 12);
        Assert.InRange(idle.Write, 1, 12);

        // Both waits are now 3.2 s or more. The next point brings them back to 100 ms, from where they double again once
        // idle (checks 0.1, 0.3, 0.7 and 1.5 s after the point: 4 in 2 s; at most one if the wait had stayed at 3.2 s).
        before = await ChecksAsync(client);
        await client.PostTelemetry(Event("model", "idle-model", "predictions", 10));
        await Eventually.Until(() => client.GetJsonOrNull("/api/v1/value"), j => j?["eventsApplied"]?.GetValue<long>() == 2);
        await Task.Delay(TimeSpan.FromSeconds(2));
        after = await ChecksAsync(client);
        var woken = (Digest: after.Digest - before.Digest, Write: after.Write - before.Write);
        Assert.True(woken.Digest >= 3, $"{woken.Digest} digest checks in the 2 s after a point (4 expected; idle before it: {idle.Digest} in 6 s)");
        Assert.True(woken.Write >= 3, $"{woken.Write} write-behind checks in the 2 s after a point (4 expected; idle before it: {idle.Write} in 6 s)");
    }

    [Fact]
    public async Task ADatasetThatGoesStaleShowsItInTheListWithoutWaitingForADigestCheck()
    {
        // Digest checks an hour apart: only the dataset's own freshness deadline can turn it stale in the list.
        await using var app = new AiOpsAppFactory(settings: new Dictionary<string, string?>
        {
            ["AiOps:Grains:DigestInterval"] = "01:00:00",
            ["AiOps:Grains:RuleCheckInterval"] = "00:00:00.200",
        });
        var client = app.CreateClient();
        const string id = "warehouse.orders";
        await client.PostTelemetry(Event("dataset", id, "dataset.writes", 1));
        await Eventually.Until(() => client.GetJsonOrNull($"/api/v1/datasets/{id}"), j => j?["eventsApplied"]?.GetValue<long>() == 1);
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson($"/api/v1/datasets/{id}", new { freshnessSlaSeconds = 4 })).StatusCode);
        var fresh = await Eventually.Until(() => client.GetJsonOrNull("/api/v1/datasets"),
            j => j?["items"]?.AsArray().Any(i => (string?)i!["id"] == id && (bool?)i["fresh"] == true) == true, because: "fresh right after the write");

        var stale = await Eventually.Until(() => client.GetJsonOrNull("/api/v1/datasets"),
            j => j?["items"]?.AsArray().Any(i => (string?)i!["id"] == id && (bool?)i["fresh"] == false) == true,
            TimeSpan.FromSeconds(30), "stale in the list once its SLA has passed");
        Assert.NotNull(fresh);
        Assert.NotNull(stale);
    }
}
