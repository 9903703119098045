using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.Testing;

namespace AiOps.Bench;

/// <summary>
/// Durable ingestion across topologies in one run: one embedded process (the baseline), then clusters of 1 and 3
/// silo processes on a throwaway PostgreSQL. The same HTTP load each time (1,000 events per request over 1,000
/// entities, 32 connections spread over the silos, every point scored), measured until the value view counts every
/// event. Everything shares this machine's cores: the load generator, PostgreSQL and every silo.
/// Optional soak: paced load at a share of the 3-silo figure, sampling failures, memory and log size.
/// </summary>
public static class ClusterBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var events = args.Int("events", 1_000_000);
        var clients = args.Int("clients", 32);
        var silos = (args.Get("silos") ?? "1,3").Split(',').Select(int.Parse).ToArray();
        await using var pg = await PostgresServer.StartAsync();
        Console.WriteLine($"cluster bench: {events:N0} events per measurement, 1,000 per request over 1,000 entities, {clients} connections; PostgreSQL {pg.Port}");

        var results = new List<(string Name, int Processes, double Rate)>();
        results.Add(("embedded (1 process, local log)", 1, await MeasureAsync("embedded", 0, null, events, clients)));
        double lastClusterRate = 0;
        foreach (var n in silos)
        {
            var cs = await pg.CreateDatabaseAsync($"aiops_bench_{n}");
            lastClusterRate = await MeasureAsync($"cluster-{n}", n, cs, events, clients, soak: n == silos[^1] ? args : null);
            results.Add(($"cluster, {n} silo(s) (PostgreSQL log)", n, lastClusterRate));
        }

        Console.WriteLine();
        var embedded = results[0].Rate;
        foreach (var (name, processes, rate) in results)
            Console.WriteLine($"{name,-38} {rate,12:N0} events/s  ({rate / processes,10:N0} per silo; {rate / embedded,6:P0} of embedded)");
        return 0;
    }

    private static async Task<double> MeasureAsync(string name, int silos, string? connectionString, int events, int clients, BenchArgs? soak = null)
    {
        var data = Path.Combine(Path.GetTempPath(), $"aiops-cluster-bench-{Guid.NewGuid():N}");
        var processes = new List<ServerProcess>();
        try
        {
            var count = Math.Max(1, silos);
            for (var i = 0; i < count; i++)
            {
                var env = new Dictionary<string, string> { ["AiOps__Grains__DigestInterval"] = "00:00:00.200" };
                if (connectionString is not null)
                {
                    env["AiOps__Mode"] = "Cluster";
                    env["AiOps__PostgresConnectionString"] = connectionString;
                    env["AiOps__ClusterId"] = name;
                }
                processes.Add(ServerProcess.Start(data, env));
            }
            foreach (var p in processes)
                await p.WaitFirstAcceptedAsync("""[{"entity":{"kind":"model","id":"warm"},"metric":"predictions","value":1}]""", TimeSpan.FromMinutes(3));
            var key = processes[0].Key;
            var https = processes.Select(p =>
            {
                var h = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseCookies = false }) { BaseAddress = p.Http.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
                h.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
                return h;
            }).ToArray();
            var payloads = Enumerable.Range(0, 64).Select(Payload).ToArray();
            long expected = processes.Count;

            // Warm-up: activations, JIT, connection pools.
            expected += await SendAsync(https, payloads, 200_000 / 1000, clients, null);
            await WaitAppliedAsync(https[0], expected, TimeSpan.FromMinutes(3));

            var sw = Stopwatch.StartNew();
            expected += await SendAsync(https, payloads, events / 1000, clients, null);
            var answered = sw.Elapsed.TotalSeconds;
            await WaitAppliedAsync(https[0], expected, TimeSpan.FromMinutes(5));
            var rate = events / sw.Elapsed.TotalSeconds;
            Console.WriteLine($"{name}: {rate:N0} events/s end to end ({sw.Elapsed.TotalSeconds:F2} s; all answered after {answered:F2} s); RSS {string.Join(", ", processes.Select(p => $"{p.RssMiB():F0}"))} MiB");

            if (soak?.Get("soak-minutes") is { } minutes && connectionString is not null)
                await SoakAsync(https, payloads, processes, connectionString, rate * soak.Int("soak-share", 50) / 100.0, TimeSpan.FromMinutes(double.Parse(minutes)), clients);
            foreach (var h in https) h.Dispose();
            return rate;
        }
        finally
        {
            foreach (var p in processes) p.Dispose();
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task SoakAsync(HttpClient[] https, byte[][] payloads, List<ServerProcess> processes, string cs, double rate, TimeSpan duration, int clients)
    {
        Console.WriteLine($"soak: {duration.TotalMinutes:F0} min at {rate:N0} events/s over {processes.Count} silos");
        var failures = 0L;
        var sent = 0L;
        var sw = Stopwatch.StartNew();
        var perRequest = TimeSpan.FromSeconds(1000 / rate);
        var next = 0L;
        var tasks = Enumerable.Range(0, clients).Select(async c =>
        {
            while (sw.Elapsed < duration)
            {
                var slot = Interlocked.Increment(ref next);
                var due = TimeSpan.FromTicks(perRequest.Ticks * slot);
                if (due > sw.Elapsed) await Task.Delay(due - sw.Elapsed);
                if (sw.Elapsed >= duration) break;
                try
                {
                    using var r = await https[slot % https.Length].PostAsync("/api/v1/telemetry", new ByteArrayContent(payloads[slot % payloads.Length]) { Headers = { ContentType = new("application/json") } });
                    if ((int)r.StatusCode != 202) Interlocked.Increment(ref failures);
                    else Interlocked.Add(ref sent, 1000);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }).ToArray();
        await using var conn = new Npgsql.NpgsqlConnection(cs);
        await conn.OpenAsync();
        while (tasks.Any(t => !t.IsCompleted))
        {
            await Task.WhenAny(Task.WhenAll(tasks), Task.Delay(TimeSpan.FromSeconds(30)));
            await using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*), COALESCE(pg_total_relation_size('aiops_ingest_log'), 0) FROM aiops_ingest_log", conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.ReadAsync();
            Console.WriteLine($"soak {sw.Elapsed.TotalMinutes,5:F1} min: sent {sent:N0}, failed requests {failures}, RSS {string.Join(", ", processes.Select(p => $"{p.RssMiB():F0}"))} MiB, ingest log {reader.GetInt64(0)} records, {reader.GetInt64(1) / 1048576.0:F1} MiB on disk");
        }
    }

    private static async Task<long> SendAsync(HttpClient[] https, byte[][] payloads, int requests, int clients, Stopwatch? _)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                using var r = await https[i % https.Length].PostAsync("/api/v1/telemetry", new ByteArrayContent(payloads[i % payloads.Length]) { Headers = { ContentType = new("application/json") } });
                if ((int)r.StatusCode != 202) throw new InvalidOperationException($"ingest answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
            }
        }));
        return requests * 1000L;
    }

    private static async Task WaitAppliedAsync(HttpClient http, long expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long applied = 0;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var value = JsonNode.Parse(await http.GetStringAsync("/api/v1/value"))!;
                applied = value["eventsApplied"]!.GetValue<long>();
                if (applied >= expected) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{applied:N0} of {expected:N0} events applied");
    }

    private static byte[] Payload(int request)
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < 1000; i++)
        {
            if (i > 0) sb.Append(',');
            var (kind, metric) = (i % 3) switch { 0 => ("pipeline", "rows.out"), 1 => ("model", "predictions"), _ => ("costcenter", "cost") };
            sb.Append($$"""{"entity":{"kind":"{{kind}}","id":"e{{i}}"},"metric":"{{metric}}","value":{{1 + (request * 7 + i) % 13}}}""");
        }
        return Encoding.UTF8.GetBytes(sb.Append(']').ToString());
    }
}
