using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using AiOps.Testing;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>Cluster mode: two silo processes on one throwaway PostgreSQL server form one cluster.</summary>
public sealed class PostgresClusterTests
{
    private static Dictionary<string, string> ClusterEnvironment(string connectionString, string dataDirectory) => new()
    {
        ["AiOps__DataDirectory"] = dataDirectory,
        ["AiOps__Mode"] = "Cluster",
        ["AiOps__PostgresConnectionString"] = connectionString,
        ["AiOps__SiloPort"] = FreePorts.Next().ToString(),
        ["AiOps__GatewayPort"] = FreePorts.Next().ToString(),
        ["AiOps__ClusterId"] = "test",
        ["AiOps__Grains__DigestInterval"] = "00:00:00.500",
    };

    [Fact]
    public async Task TwoSiloProcessesFormOneClusterIngestThroughOneAndReadThroughTheOther()
    {
        await using var pg = await PostgresServer.StartAsync();
        var cs = await pg.CreateDatabaseAsync("aiops_cluster");

        // Both start at once: the migration runs once (advisory lock), both join the membership table.
        var data = TempDirectory.Create("aiops-cluster");
        var startA = ServerProcess.StartAsync(ClusterEnvironment(cs, data), TimeSpan.FromSeconds(120));
        var startB = ServerProcess.StartAsync(ClusterEnvironment(cs, data), TimeSpan.FromSeconds(120));
        await using var a = await startA;
        await using var b = await startB;
        // Exactly one of the two created the bootstrap admin key; both accept it.
        var key = (await File.ReadAllTextAsync(Path.Combine(data, "bootstrap-admin.key"))).Trim();
        a.Client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        b.Client.DefaultRequestHeaders.Authorization = new("Bearer", key);

        await using (var conn = new Npgsql.NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            var active = await Eventually.Until(async () =>
            {
                await using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE status = 3", conn);
                return Convert.ToInt32(await cmd.ExecuteScalarAsync());
            }, n => n == 2, TimeSpan.FromSeconds(60), "two active silos");
            Assert.Equal(2, active);
        }

        var at = await ThisMonthAsync(20); // all in this month, or spendMonthToDate below falls short
        var events = new List<JsonObject>();
        for (var e = 0; e < 50; e++)
        {
            for (var i = 0; i < 20; i++)
                events.Add(Event("costcenter", $"cc-{e}", "cost", 1, at[i], eventId: $"c-{e}-{i}"));
        }
        var reply = await a.Client.PostTelemetry(events.ToArray());
        Assert.Equal(1000, (int)reply["accepted"]!);

        // Read every entity through the other silo's API: grains live wherever the cluster placed them.
        for (var e = 0; e < 50; e++)
        {
            var s = await Eventually.Until(() => b.Client.GetJsonOrNull($"/api/v1/costcenters/cc-{e}"),
                j => j?["eventsApplied"]?.GetValue<long>() == 20, TimeSpan.FromSeconds(60), $"cc-{e} via silo B\n{a.Output}\n{b.Output}");
            Assert.Equal(20, (double)s!["costCenter"]!["spendTotal"]!);
        }
        var value = await Eventually.Until(() => b.Client.GetJsonOrNull("/api/v1/value"), j => j?["eventsApplied"]?.GetValue<long>() == 1000, TimeSpan.FromSeconds(60));
        Assert.Equal(1000, (double)value!["spendMonthToDate"]!);
        Assert.Equal(50, (int)value["costCenters"]!);

        // Small requests for one entity from 32 producers at once, through both silos: each silo's log write takes
        // several of them in one record (one position), and every one of them is applied (ConcurrentRequestsTests).
        const int small = 300;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var i && i < small)
                await (i % 2 == 0 ? a : b).Client.PostTelemetry(Event("pipeline", "p-busy", "rows.in", 1, eventId: $"busy-{i}"));
        }));
        var busy = await Eventually.Until(() => a.Client.GetJsonOrNull("/api/v1/pipelines/p-busy"),
            j => j?["eventsApplied"]?.GetValue<long>() >= small, TimeSpan.FromSeconds(60), "every small request applied");
        Assert.Equal(small, busy!["eventsApplied"]!.GetValue<long>());

        // Live feed across silos: an alert opened on either silo reaches the SSE clients of both, once each
        // (its own silo's feed is told in-process, the other's through the broadcast grain).
        using var feeds = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var seenA = OpenFeed(a, key, feeds.Token);
        var seenB = OpenFeed(b, key, feeds.Token);
        // Both feeds are registered with the broadcast grain once a test alert reaches both clients.
        await Eventually.Until(async () =>
        {
            var warm = await FireTestAlert(a);
            await Task.Delay(500);
            return seenA.Contains(warm) && seenB.Contains(warm);
        }, ok => ok, TimeSpan.FromSeconds(60), "both live feeds registered");
        var fired = new List<string>();
        for (var i = 0; i < 8; i++) fired.Add(await FireTestAlert(i % 2 == 0 ? a : b));
        foreach (var (name, seen) in new[] { ("A", seenA), ("B", seenB) })
        {
            await Eventually.Until(() => Task.FromResult(fired.All(seen.Contains)), ok => ok, TimeSpan.FromSeconds(30), $"silo {name} saw every alert");
        }
        await Task.Delay(1000);
        foreach (var id in fired)
        {
            Assert.Equal(1, seenA.Count(x => x == id));
            Assert.Equal(1, seenB.Count(x => x == id));
        }
        feeds.Cancel();

        // The Orleans Dashboard is there for admins, and for nobody else.
        var dashboard = await a.Client.GetAsync("/dashboard/");
        Assert.Equal(System.Net.HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("html", dashboard.Content.Headers.ContentType?.MediaType ?? "");
        using var anonymous = new HttpClient { BaseAddress = a.Client.BaseAddress };
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/dashboard/")).StatusCode);
        var created = await a.Client.PostAsJsonAsync("/api/v1/keys", new { name = "dash-reader", role = "reader" });
        var readerKey = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["key"]!;
        using var reader = new HttpClient { BaseAddress = a.Client.BaseAddress };
        reader.DefaultRequestHeaders.Authorization = new("Bearer", readerKey);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await reader.GetAsync("/dashboard/")).StatusCode);
    }

    private static async Task<string> FireTestAlert(ServerProcess silo)
    {
        using var response = await silo.Client.PostAsync("/api/v1/alerts/test", JsonContent.Create(new { summary = "cluster feed" }));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var detail = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (string)detail["alert"]!["entityId"]!;
    }

    /// <summary>The entity ids of the "opened" events a live-feed client on <paramref name="silo"/> receives.</summary>
    private static System.Collections.Concurrent.ConcurrentQueue<string> OpenFeed(ServerProcess silo, string key, CancellationToken ct)
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _ = Task.Run(async () =>
        {
            using var client = new HttpClient { BaseAddress = silo.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
            try
            {
                using var response = await client.GetAsync("/api/v1/alerts/stream?metric=aiops.test", HttpCompletionOption.ResponseHeadersRead, ct);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    if (!line.StartsWith("data: ")) continue;
                    var e = JsonNode.Parse(line[6..])!;
                    if ((string?)e["type"] == "opened") seen.Enqueue((string)e["alert"]!["entityId"]!);
                }
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);
        return seen;
    }
}
