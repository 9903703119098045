using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace AiOps.Bench;

/// <summary>
/// What the embedded default promises on a crash, measured: a steady load of uniquely-identified events
/// (one pipeline per writer), then SIGKILL mid-stream; after a restart on the same data folder, compare the
/// events each pipeline reports applied with what the server acknowledged. The same run with SIGTERM is
/// the baseline (a graceful stop must lose nothing).
/// </summary>
public static class CrashBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var seconds = args.Int("seconds", 20);
        var writers = args.Int("writers", 10);
        foreach (var crash in new[] { false, true })
        {
            var data = Path.Combine(Path.GetTempPath(), $"aiops-crash-{Guid.NewGuid():N}");
            long acked;
            var ackedPerWriter = new long[writers];
            TimeSpan lastAckAge;
            using (var server = ServerProcess.Start(data))
            {
                await server.WaitFirstAcceptedAsync("""[{"entity":{"kind":"model","id":"warm"},"metric":"predictions","value":1}]""", TimeSpan.FromMinutes(1));
                var key = server.Key;
                var stopAt = DateTime.UtcNow.AddSeconds(seconds);
                var lastAck = Stopwatch.StartNew();
                var tasks = Enumerable.Range(0, writers).Select(async w =>
                {
                    var seq = 0;
                    while (DateTime.UtcNow < stopAt)
                    {
                        var sb = new StringBuilder("[");
                        for (var i = 0; i < 100; i++, seq++)
                        {
                            if (i > 0) sb.Append(',');
                            sb.Append($$"""{"entity":{"kind":"pipeline","id":"w{{w}}"},"metric":"rows.out","value":1,"id":"w{{w}}-{{seq}}"}""");
                        }
                        sb.Append(']');
                        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/telemetry") { Content = new StringContent(sb.ToString(), Encoding.UTF8, "application/json") };
                        request.Headers.Authorization = new("Bearer", key);
                        using var response = await server.Http.SendAsync(request);
                        if ((int)response.StatusCode != 202) throw new InvalidOperationException($"{(int)response.StatusCode}");
                        Interlocked.Add(ref ackedPerWriter[w], 100);
                        lastAck.Restart();
                        await Task.Delay(20);
                    }
                });
                await Task.WhenAll(tasks);
                acked = ackedPerWriter.Sum();
                lastAckAge = lastAck.Elapsed;
                if (crash) server.Kill(); else await server.StopGracefullyAsync();
            }

            using (var again = ServerProcess.Start(data))
            {
                await again.WaitFirstAcceptedAsync("""[{"entity":{"kind":"model","id":"warm"},"metric":"predictions","value":1}]""", TimeSpan.FromMinutes(1));
                again.Http.DefaultRequestHeaders.Authorization = new("Bearer", again.Key);
                long applied = 0;
                for (var w = 0; w < writers; w++)
                {
                    var r = await again.Http.GetAsync($"/api/v1/pipelines/w{w}");
                    if (r.IsSuccessStatusCode) applied += JsonNode.Parse(await r.Content.ReadAsStringAsync())!["eventsApplied"]!.GetValue<long>();
                }
                var rate = acked / (double)seconds;
                Console.WriteLine($"{(crash ? "SIGKILL " : "SIGTERM ")} after {seconds} s at ~{rate:N0} events/s: acknowledged {acked:N0}, applied after restart {applied:N0}, lost {acked - applied:N0} (~{(acked - applied) / Math.Max(rate, 1):F1} s of telemetry)");
            }
            Directory.Delete(data, recursive: true);
        }
        return 0;
    }
}
