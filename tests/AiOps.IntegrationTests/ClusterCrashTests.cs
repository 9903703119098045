using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using AiOps.Testing;

namespace AiOps.IntegrationTests;

/// <summary>
/// The cluster's durability promise with real processes: three silos on a real PostgreSQL, producers on two of
/// them, kill -9 of a silo no producer talks to and then of one that a producer talks to, under load.
/// </summary>
public sealed class ClusterCrashTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int EntitiesPerWriter = 10;
    private const int EventsPerRequest = 100;

    private static Dictionary<string, string> Environment(string connectionString, string data) => new()
    {
        ["AiOps__DataDirectory"] = data,
        ["AiOps__Mode"] = "Cluster",
        ["AiOps__PostgresConnectionString"] = connectionString,
        ["AiOps__SiloPort"] = FreePorts.Next().ToString(),
        ["AiOps__GatewayPort"] = FreePorts.Next().ToString(),
        ["AiOps__ClusterId"] = "crash",
    };

    /// <summary>A throwaway PostgreSQL and three silo processes on it, each client holding the bootstrap admin key.</summary>
    private sealed class ThreeSilos : IAsyncDisposable
    {
        private PostgresServer _pg = null!;
        public string ConnectionString { get; private set; } = "";
        public Dictionary<string, string>[] Environments { get; private set; } = [];
        public ServerProcess A { get; private set; } = null!;
        public ServerProcess B { get; private set; } = null!;
        public ServerProcess C { get; private set; } = null!;

        public static async Task<ThreeSilos> StartAsync(string database, IReadOnlyDictionary<string, string>? settings = null)
        {
            var cluster = new ThreeSilos { _pg = await PostgresServer.StartAsync() };
            cluster.ConnectionString = await cluster._pg.CreateDatabaseAsync(database);
            var data = TempDirectory.Create($"aiops-{database}");
            cluster.Environments = Enumerable.Range(0, 3).Select(_ =>
            {
                var env = Environment(cluster.ConnectionString, data);
                foreach (var (name, value) in settings ?? new Dictionary<string, string>()) env[name] = value;
                return env;
            }).ToArray();
            var starts = cluster.Environments.Select(env => ServerProcess.StartAsync(env, TimeSpan.FromSeconds(120))).ToArray();
            (cluster.A, cluster.B, cluster.C) = (await starts[0], await starts[1], await starts[2]);
            var key = (await File.ReadAllTextAsync(Path.Combine(data, "bootstrap-admin.key"))).Trim();
            foreach (var s in new[] { cluster.A, cluster.B, cluster.C }) s.Client.DefaultRequestHeaders.Authorization = new("Bearer", key);
            return cluster;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var s in new[] { A, B, C }) if (s is not null) await s.DisposeAsync();
            await _pg.DisposeAsync();
        }
    }

    private sealed class Writer(int index, ServerProcess target)
    {
        public int Index { get; } = index;
        public ServerProcess Target { get; } = target;
        public long Acked;
        public int Failures;
        public double MaxLatencyMs;
        public bool Stop;
    }

    [Fact]
    public async Task EveryAcknowledgedEventIsAppliedExactlyOnceAfterKillMinus9OfTwoOfThreeSilos()
    {
        await using var cluster = await ThreeSilos.StartAsync("aiops_crash");
        var (a, b, c, cs, envs) = (cluster.A, cluster.B, cluster.C, cluster.ConnectionString, cluster.Environments);

        // Producers on a and b; c only hosts grains (and its own log partition is empty).
        var writers = Enumerable.Range(0, 6).Select(i => new Writer(i, i < 3 ? a : b)).ToArray();
        var killedA = false;
        var loops = writers.Select(w => Task.Run(async () =>
        {
            for (var request = 0; request < 100_000 && !w.Stop; request++)
            {
                var body = new StringBuilder("[");
                for (var i = 0; i < EventsPerRequest; i++)
                {
                    if (i > 0) body.Append(',');
                    body.Append($$"""{"entity":{"kind":"pipeline","id":"w{{w.Index}}-{{i % EntitiesPerWriter}}"},"metric":"rows.out","value":1}""");
                }
                body.Append(']');
                var sw = Stopwatch.StartNew();
                try
                {
                    using var r = await w.Target.Client.PostAsync("/api/v1/telemetry", new StringContent(body.ToString(), Encoding.UTF8, "application/json"));
                    if (r.StatusCode == HttpStatusCode.Accepted) Interlocked.Add(ref w.Acked, EventsPerRequest);
                    else w.Failures++;
                }
                catch (Exception) when (w.Target == a && Volatile.Read(ref killedA))
                {
                    return; // its silo is gone: this request was never answered
                }
                catch (Exception)
                {
                    w.Failures++;
                }
                w.MaxLatencyMs = Math.Max(w.MaxLatencyMs, sw.Elapsed.TotalMilliseconds);
                await Task.Delay(10);
            }
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(5));
        // Bounded pools: under load, three silos hold at most 3 x (16 + 4) connections (PostgreSQL's default limit is 100).
        await using (var conn = new Npgsql.NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand(
                "SELECT COALESCE(application_name, ''), count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1", conn);
            var byApplication = new List<(string Name, long Count)>();
            await using (var reader = await cmd.ExecuteReaderAsync())
                while (await reader.ReadAsync()) byApplication.Add((reader.GetString(0), reader.GetInt64(1)));
            var connections = byApplication.Sum(x => x.Count);
            var detail = string.Join(", ", byApplication.Select(x => $"{x.Name}: {x.Count}"));
            output.WriteLine($"PostgreSQL connections of three silos under load: {connections} ({detail})");
            Assert.True(connections <= 3 * (16 + 4), $"{connections} connections: {detail}");
        }
        c.Crash(); // hosts about a third of the grains, with applied but unsaved points
        var deadC = await SecondsUntilDeclaredDeadAsync(cs, int.Parse(envs[2]["AiOps__SiloPort"]));
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, 12 - deadC)));
        Volatile.Write(ref killedA, true);
        a.Crash(); // the silo three producers talk to, with its log partition and unsaved grains
        var deadA = await SecondsUntilDeclaredDeadAsync(cs, int.Parse(envs[0]["AiOps__SiloPort"]));
        await Task.Delay(TimeSpan.FromSeconds(3));
        output.WriteLine($"membership declared the killed silos dead after {deadC:F1} s and {deadA:F1} s");
        foreach (var w in writers) w.Stop = true;
        await Task.WhenAll(loops);

        foreach (var w in writers.Where(w => w.Target == b))
        {
            Assert.True(w.Failures == 0, $"writer {w.Index} on the surviving silo saw {w.Failures} failed requests");
        }
        var acked = writers.Sum(w => w.Acked);
        Assert.True(acked > 20_000, $"too little load: {acked}");

        async Task<long[]> AppliedAsync()
        {
            var applied = new long[writers.Length];
            foreach (var w in writers)
            {
                for (var e = 0; e < EntitiesPerWriter; e++)
                {
                    var r = await b.Client.GetAsync($"/api/v1/pipelines/w{w.Index}-{e}");
                    if (r.StatusCode == HttpStatusCode.NotFound) continue;
                    r.EnsureSuccessStatusCode();
                    var summary = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
                    applied[w.Index] += summary["eventsApplied"]!.GetValue<long>();
                }
            }
            return applied;
        }

        // Takeover of a's partition (after its heartbeat stops) and gap repairs run in the background.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        long[] now;
        while (true)
        {
            try
            {
                now = await AppliedAsync();
                if (writers.All(w => now[w.Index] >= w.Acked) || DateTime.UtcNow > deadline) break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(500);
        }
        await Task.Delay(2000);
        now = await AppliedAsync();
        var report = string.Join(System.Environment.NewLine, writers.Select(w => $"w{w.Index}@{(w.Target == a ? "a" : "b")}: acked {w.Acked}, applied {now[w.Index]}, max latency {w.MaxLatencyMs:F0} ms"));
        output.WriteLine(report);
        foreach (var w in writers)
        {
            Assert.True(now[w.Index] >= w.Acked, $"acknowledged events lost: {report}");
            Assert.True(now[w.Index] <= w.Acked + EventsPerRequest, $"events applied twice: {report}");
        }
    }

    [Fact]
    public async Task ADetectorContinuesOnAnotherSiloAfterKillMinus9OfItsSiloAsIfNoPointHadBeenLost()
    {
        // The cluster form of CrashTests.ADetectorContinuesAfterKillMinus9AsIfNoPointHadBeenLost: the same series sent to
        // silo b, the silo hosting the model's grain (the one whose detectors scored points) killed with SIGKILL right after
        // the last acknowledged point; the grain reactivates on a survivor from its state in PostgreSQL (and, if b was
        // killed, b's partition is taken over and replayed). Known answer: every later point scores as the detector that
        // never stopped, to the 4 decimals the series API reports.
        await using var cluster = await ThreeSilos.StartAsync("aiops_detector", new Dictionary<string, string>
        {
            ["AiOps__Grains__InlineDetectorTraining"] = "true",
            ["AiOps__Grains__PersistInterval"] = "00:00:00.100",
            ["AiOps__Grains__ModelPersistInterval"] = "00:00:02",
        });
        var silos = new[] { cluster.A, cluster.B, cluster.C };
        var series = new CrashTests.LatencyWithASpike();
        const int beforeKill = 1000;

        for (int from = 0; from < 900; from += 100) await cluster.B.Client.PostTelemetry(series.Events(from, 100));
        await Eventually.Until(() => cluster.B.Client.GetJsonOrNull("/api/v1/models/m-crash"), j => j?["eventsApplied"]?.GetValue<long>() == 900);
        var scored = new double[3];
        for (int i = 0; i < 3; i++)
        {
            var text = await silos[i].Client.GetStringAsync("/metrics");
            scored[i] = text.Split('\n').Where(l => l.StartsWith("aiops_anomaly_points_scored_total")).Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }
        int host = Array.FindIndex(scored, x => x > 0);
        Assert.True(host >= 0 && scored.Count(x => x > 0) == 1, $"points scored per silo: {string.Join(", ", scored)}");
        for (int from = 900; from < beforeKill; from += 2)
        {
            await cluster.B.Client.PostTelemetry(series.Events(from, 2));
            await Task.Delay(200);
        }
        silos[host].Crash();
        var survivor = silos[host == 1 ? 2 : 1];
        output.WriteLine($"the grain was on silo {"abc"[host]}; reading through silo {(host == 1 ? 'c' : 'b')}");

        await Eventually.Until(async () =>
        {
            try { return await survivor.Client.GetJsonOrNull("/api/v1/models/m-crash"); }
            catch (HttpRequestException) { return null; }
        }, j => j?["eventsApplied"]?.GetValue<long>() == beforeKill, timeout: TimeSpan.FromSeconds(120),
            because: "every acknowledged point is applied after the takeover");
        await series.SendTheRestAndCompareAsync(survivor.Client, beforeKill, "the grain on the survivor");
    }

    private static async Task<double> SecondsUntilDeclaredDeadAsync(string connectionString, int siloPort)
    {
        var sw = Stopwatch.StartNew();
        await using var conn = new Npgsql.NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        while (sw.Elapsed < TimeSpan.FromSeconds(90))
        {
            await using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE port = $1 AND status = 6", conn);
            cmd.Parameters.AddWithValue(siloPort);
            if (Convert.ToInt32(await cmd.ExecuteScalarAsync()) > 0) return sw.Elapsed.TotalSeconds;
            await Task.Delay(100);
        }
        return double.NaN;
    }

    [Fact]
    public async Task EntitiesThatLoseATakenOverPartitionsPointsAgainGetThemAgain()
    {
        await using var cluster = await ThreeSilos.StartAsync("aiops_double");
        var (a, b, c) = (cluster.A, cluster.B, cluster.C);

        // Load through a only, then kill it: b or c takes its partition over and replays it into grains on both.
        long acked = 0;
        var stop = false;
        var load = Task.Run(async () =>
        {
            for (var r = 0; r < 100_000 && !Volatile.Read(ref stop); r++)
            {
                var body = new StringBuilder("[");
                for (var i = 0; i < EventsPerRequest; i++) body.Append(i > 0 ? "," : "").Append($$"""{"entity":{"kind":"pipeline","id":"d-{{i % 30}}"},"metric":"rows.out","value":1}""");
                try
                {
                    using var reply = await a.Client.PostAsync("/api/v1/telemetry", new StringContent(body.Append(']').ToString(), Encoding.UTF8, "application/json"));
                    if (reply.StatusCode == HttpStatusCode.Accepted) Interlocked.Add(ref acked, EventsPerRequest);
                }
                catch (Exception) when (Volatile.Read(ref stop))
                {
                    return;
                }
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(4));
        Volatile.Write(ref stop, true);
        a.Crash();
        await load;

        // As soon as one survivor has replayed a's partition, kill the other one: the grains it hosted held replayed
        // points they had not saved yet (entities save every 15 s).
        var taker = await Eventually.Until(() => Task.FromResult(new[] { b, c }.FirstOrDefault(s => s.Output.Contains("Took over the ingest log partition"))),
            s => s is not null, TimeSpan.FromSeconds(60), "partition taken over");
        var other = taker == b ? c : b;
        other.Crash();

        async Task<long> AppliedAsync()
        {
            long total = 0;
            for (var e = 0; e < 30; e++)
            {
                var r = await taker!.Client.GetAsync($"/api/v1/pipelines/d-{e}");
                if (r.IsSuccessStatusCode) total += JsonNode.Parse(await r.Content.ReadAsStringAsync())!["eventsApplied"]!.GetValue<long>();
            }
            return total;
        }
        var applied = await Eventually.Until(async () =>
        {
            try { return await AppliedAsync(); }
            catch (HttpRequestException) { return -1; }
        }, n => n >= acked, TimeSpan.FromSeconds(120), $"acknowledged events applied after the second crash");
        await Task.Delay(2000);
        applied = await AppliedAsync();
        output.WriteLine($"acknowledged {acked}, applied {applied}; delivered again after the second crash: {taker!.Output.Contains("lost points of the taken-over partition")}");
        Assert.InRange(applied, acked, acked + EventsPerRequest);
    }
}
