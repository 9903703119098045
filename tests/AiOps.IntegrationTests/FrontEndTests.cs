using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using AiOps.Testing;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>An API-only front end (Orleans client) in front of a silo, both separate processes on a real PostgreSQL.</summary>
public sealed class FrontEndTests
{
    private static Dictionary<string, string> Environment(string cs, string data, bool frontEnd) => new()
    {
        ["AiOps__DataDirectory"] = data,
        ["AiOps__Mode"] = "Cluster",
        ["AiOps__Role"] = frontEnd ? "FrontEnd" : "Silo",
        ["AiOps__PostgresConnectionString"] = cs,
        ["AiOps__SiloPort"] = FreePorts.Next().ToString(),
        ["AiOps__GatewayPort"] = FreePorts.Next().ToString(),
        ["AiOps__ClusterId"] = "frontend",
        ["AiOps__Grains__DigestInterval"] = "00:00:00.500",
    };

    [Fact]
    public async Task AFrontEndIngestsThroughTheSilosAndWhatItAcknowledgedSurvivesItsKillMinus9()
    {
        await using var pg = await PostgresServer.StartAsync();
        var cs = await pg.CreateDatabaseAsync("aiops_frontend");
        var data = TempDirectory.Create("aiops-frontend");
        await using var silo = await ServerProcess.StartAsync(Environment(cs, data, frontEnd: false), TimeSpan.FromSeconds(120));
        await using var front = await ServerProcess.StartAsync(Environment(cs, data, frontEnd: true), TimeSpan.FromSeconds(120));
        var key = (await File.ReadAllTextAsync(Path.Combine(data, "bootstrap-admin.key"))).Trim();
        silo.Client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        front.Client.DefaultRequestHeaders.Authorization = new("Bearer", key);

        // Reads and writes through the front end reach the grains on the silo.
        await front.Client.PostTelemetry(Event("model", "fe-model", "predictions", 5));
        var model = await Eventually.Until(() => silo.Client.GetJsonOrNull("/api/v1/models/fe-model"), j => j?["eventsApplied"]?.GetValue<long>() == 1);
        Assert.Equal(1, (long)(await front.Client.GetJsonOrNull("/api/v1/models/fe-model"))!["eventsApplied"]!);

        // Load through the front end, then kill -9 it: its log partition is taken over by the silo.
        long acked = 0;
        var stop = false;
        var load = Task.Run(async () =>
        {
            for (var r = 0; r < 100_000 && !Volatile.Read(ref stop); r++)
            {
                var body = new StringBuilder("[");
                for (var i = 0; i < 100; i++) body.Append(i > 0 ? "," : "").Append($$"""{"entity":{"kind":"pipeline","id":"fe-{{i % 10}}"},"metric":"rows.out","value":1}""");
                try
                {
                    using var reply = await front.Client.PostAsync("/api/v1/telemetry", new StringContent(body.Append(']').ToString(), Encoding.UTF8, "application/json"));
                    if (reply.StatusCode == HttpStatusCode.Accepted) Interlocked.Add(ref acked, 100);
                }
                catch (Exception) when (Volatile.Read(ref stop))
                {
                    return;
                }
            }
        });
        // At least 4 s and 5,000 acknowledged events before the kill (a loaded machine gets there later, not never).
        await Task.Delay(TimeSpan.FromSeconds(4));
        for (var waited = 0; Interlocked.Read(ref acked) <= 5_000 && waited < 60; waited++) await Task.Delay(TimeSpan.FromSeconds(1));
        Volatile.Write(ref stop, true);
        front.Crash();
        await load;
        Assert.True(acked > 5_000, $"too little load: {acked}");

        async Task<long> AppliedAsync()
        {
            long total = 0;
            for (var e = 0; e < 10; e++)
                total += (await silo.Client.GetJsonOrNull($"/api/v1/pipelines/fe-{e}"))?["eventsApplied"]?.GetValue<long>() ?? 0;
            return total;
        }
        // The silo takes over the dead front end's partition once its heartbeat is stale, and replays it (entities skip
        // what they already hold).
        await Eventually.Until(() => Task.FromResult(silo.Output.Contains("Took over the ingest log partition")), taken => taken, TimeSpan.FromSeconds(60), "partition taken over");
        var applied = await Eventually.Until(AppliedAsync, n => n >= acked, TimeSpan.FromSeconds(90), "acknowledged events applied");
        await Task.Delay(1000);
        applied = await AppliedAsync();
        Assert.InRange(applied, acked, acked + 100);
    }
}
