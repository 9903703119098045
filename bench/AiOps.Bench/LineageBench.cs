using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using AiOps.Abstractions;
using AiOps.Server.Lineage;
using Orleans;

namespace AiOps.Bench;

/// <summary>
/// OpenLineage run events (START/COMPLETE pairs over many jobs, each reading two datasets and writing one, with
/// outputStatistics) posted to the real server's <c>/api/v1/lineage</c>, next to native telemetry (1,000-event
/// requests over 1,000 entities) posted to <c>/api/v1/telemetry</c> in the same process and run. Both are timed to
/// the last reply (202: in the ingest log) and to the moment every entity reflects every event.
/// </summary>
public static class LineageBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var runEvents = args.Int("events", 200_000);
        var jobs = args.Int("jobs", 1000);
        var batch = args.Int("batch", 100);
        var clients = args.Int("clients", 32);
        var nativeEvents = args.Int("native-events", 1_000_000);
        Console.WriteLine($"lineage: {runEvents} run events (START/COMPLETE pairs) over {jobs} jobs, 3 datasets each, {batch} events per request, {clients} connections; native: {nativeEvents} events in 1,000-event requests over 1,000 entities");
        await using var server = await BenchServer.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseCookies = false }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminKey);

        var start = DateTimeOffset.UtcNow.AddDays(-1);
        // Warm-up: one run per job (graph learned, grains active, JIT), then the measured rounds on new runs.
        var warm = LineagePayloads(jobs, 2 * jobs, batch, start, round: 0);
        await IngestBench.Send(http, "/api/v1/lineage", warm, clients);
        await WaitRuns(server.Client, jobs, runsPerJob: 1);
        var nativeWarm = Enumerable.Range(0, 200).Select(r => IngestBench.Payload("n", r, 1000, 1000, 1000, start.AddHours(-2), idPrefix: "warm")).ToArray();
        await IngestBench.Send(http, "/api/v1/telemetry", nativeWarm, clients);
        long nativeApplied = 200L * 1000;
        await IngestBench.WaitApplied(server.Client, "n", 1000, nativeApplied, TimeSpan.FromMinutes(2));

        var rounds = Math.Max(1, args.Int("rounds", 3));
        var runsPerJob = 1;
        var lineageRates = new List<(double Door, double EndToEnd)>();
        var nativeRates = new List<(double Door, double EndToEnd)>();
        for (var round = 1; round <= rounds; round++)
        {
            var payloads = LineagePayloads(jobs, runEvents, batch, start.AddHours(round), round);
            var bytes = payloads.Sum(p => (long)p.Length);
            GC.Collect();
            var sw = Stopwatch.StartNew();
            var latencies = await IngestBench.Send(http, "/api/v1/lineage", payloads, clients);
            var door = sw.Elapsed.TotalSeconds;
            runsPerJob += runEvents / 2 / jobs;
            await WaitRuns(server.Client, jobs, runsPerJob);
            var e2e = sw.Elapsed.TotalSeconds;
            lineageRates.Add((runEvents / door, runEvents / e2e));
            Array.Sort(latencies);
            Console.WriteLine($"round {round}: OpenLineage {runEvents / door,10:N0} run events/s at the door ({door:F2} s, {bytes / runEvents} bytes/event, request p50 {latencies[latencies.Length / 2]:F1} ms, p99 {latencies[(int)(latencies.Length * 0.99)]:F1} ms), {runEvents / e2e,10:N0}/s applied end to end ({e2e:F2} s)");

            var native = Enumerable.Range(0, nativeEvents / 1000).Select(r => IngestBench.Payload("n", r, 1000, 1000, 1000, start.AddHours(round), idPrefix: $"r{round}-")).ToArray();
            GC.Collect();
            sw.Restart();
            await IngestBench.Send(http, "/api/v1/telemetry", native, clients);
            door = sw.Elapsed.TotalSeconds;
            nativeApplied += nativeEvents;
            await IngestBench.WaitApplied(server.Client, "n", 1000, nativeApplied, TimeSpan.FromMinutes(5));
            e2e = sw.Elapsed.TotalSeconds;
            nativeRates.Add((nativeEvents / door, nativeEvents / e2e));
            Console.WriteLine($"round {round}: native      {nativeEvents / door,10:N0} events/s at the door ({door:F2} s), {nativeEvents / e2e,10:N0}/s applied end to end ({e2e:F2} s)");
        }
        static double Median(IEnumerable<double> v) { var s = v.Order().ToArray(); return s[s.Length / 2]; }
        Console.WriteLine();
        Console.WriteLine($"medians: OpenLineage {Median(lineageRates.Select(r => r.Door)):N0} run events/s at the door, {Median(lineageRates.Select(r => r.EndToEnd)):N0}/s end to end; " +
                          $"native {Median(nativeRates.Select(r => r.Door)):N0} events/s at the door, {Median(nativeRates.Select(r => r.EndToEnd)):N0}/s end to end");
        return 0;
    }

    /// <summary>START then COMPLETE of one run per job, repeated until <paramref name="events"/>; runs are new each round.</summary>
    private static byte[][] LineagePayloads(int jobs, int events, int batch, DateTimeOffset start, int round)
    {
        var list = new List<string>(events);
        for (var i = 0; list.Count < events; i++)
        {
            var job = i % jobs;
            var run = new Guid(round, (short)(i >> 16), (short)(i & 0xffff), 0, 0, 0, 0, 0, 0, 0, 0).ToString();
            var t0 = start.AddSeconds(i);
            list.Add(Event("START", job, run, t0, rows: null));
            list.Add(Event("COMPLETE", job, run, t0.AddSeconds(10 + job % 7), rows: 1000 + job));
        }
        return list.Chunk(batch).Select(c => Encoding.UTF8.GetBytes(c.Length == 1 ? c[0] : "[" + string.Join(',', c) + "]")).ToArray();
    }

    private static string Event(string type, int job, string run, DateTimeOffset at, long? rows)
    {
        var stats = rows is null ? "" : $",\"outputFacets\":{{\"outputStatistics\":{{\"rowCount\":{rows}}}}}";
        return "{\"eventType\":\"" + type + "\",\"eventTime\":\"" + at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'") + "\"," +
               "\"run\":{\"runId\":\"" + run + "\",\"facets\":{\"parent\":{\"job\":{\"namespace\":\"bench\",\"name\":\"scheduler\"},\"run\":{\"runId\":\"" + run + "\"}}}}," +
               "\"job\":{\"namespace\":\"bench\",\"name\":\"job-" + job + "\",\"facets\":{}}," +
               "\"inputs\":[{\"namespace\":\"postgres://db:5432\",\"name\":\"public.in_" + job + "\"},{\"namespace\":\"postgres://db:5432\",\"name\":\"public.shared_" + job % 50 + "\"}]," +
               "\"outputs\":[{\"namespace\":\"s3://lake\",\"name\":\"warehouse/out_" + job + "\"" + stats + "}]," +
               "\"producer\":\"https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/airflow\"," +
               "\"schemaURL\":\"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent\"}";
    }

    private static async Task WaitRuns(IClusterClient client, int jobs, int runsPerJob)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            var done = await Task.WhenAll(Enumerable.Range(0, jobs).Select(async j =>
                (await client.GetEntity(EntityKind.Pipeline, LineageIds.For("bench", $"job-{j}")).GetSummaryAsync()).Pipeline?.SuccessesTotal >= runsPerJob));
            if (done.All(x => x)) return;
            await Task.Delay(50); // each poll asks every pipeline for its summary: not too often, it competes with the work measured
        }
        throw new TimeoutException($"not every job reached {runsPerJob} runs");
    }
}
