using System.Net.Http.Headers;

namespace AiOps.Bench;

/// <summary>
/// What an idle embedded server costs: its CPU (as a share of one core) while nothing is sent, once freshly started
/// and once after 1,000 entities received telemetry (their grains active, with their timers). With
/// <c>--baseline DIR</c> another build runs beside it, measured over the same windows.
/// </summary>
public static class IdleBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var settle = TimeSpan.FromSeconds(args.Int("settle", 20));
        var window = TimeSpan.FromSeconds(args.Int("seconds", 30));
        var entities = args.Int("entities", 1000);
        var baseline = args.Get("baseline");
        var specs = new List<(string Name, string? Directory)> { ("this build", null) };
        if (baseline is not null)
            specs.Add((Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseline))), Path.GetFullPath(baseline)));

        var root = Path.Combine(Path.GetTempPath(), $"aiops-idle-{Guid.NewGuid():N}");
        var servers = new List<(string Name, ServerProcess Server)>();
        try
        {
            foreach (var (name, directory) in specs)
            {
                var server = ServerProcess.Start(Path.Combine(root, servers.Count.ToString()), serverDirectory: directory);
                await server.WaitFirstAcceptedAsync("""[{"entity":{"kind":"model","id":"warm"},"metric":"predictions","value":1}]""", TimeSpan.FromMinutes(3));
                servers.Add((name, server));
            }
            Console.WriteLine($"idle: {string.Join("; ", servers.Select(s => $"{s.Name} (pid {s.Server.Pid})"))}; {settle.TotalSeconds:F0} s to settle, then CPU over {window.TotalSeconds:F0} s");

            await Measure("fresh (one entity)");

            var start = DateTimeOffset.UtcNow.AddDays(-1);
            var payloads = Enumerable.Range(0, 100).Select(r => IngestBench.Payload("e", r, entities, entities, entities, start, idPrefix: "idle")).ToArray();
            foreach (var (_, server) in servers)
            {
                using var http = new HttpClient { BaseAddress = server.Http.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.Key);
                await IngestBench.Send(http, "/api/v1/telemetry", payloads, 8);
            }
            await Measure($"after {entities:N0} entities received 100 points each");
            return 0;
        }
        finally
        {
            foreach (var (_, server) in servers) server.Dispose();
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }

        async Task Measure(string phase)
        {
            await Task.Delay(settle);
            var before = servers.Select(s => s.Server.CpuTime()).ToArray();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            await Task.Delay(window);
            var seconds = sw.Elapsed.TotalSeconds;
            var shares = servers.Select((s, i) => (s.Server.CpuTime() - before[i]).TotalSeconds / seconds * 100).ToArray();
            for (var i = 0; i < servers.Count; i++)
                Console.WriteLine($"{phase,-48} {servers[i].Name,-16} {shares[i],6:F1} % of a core" +
                    (i > 0 ? $"  (this build / {servers[i].Name}: {shares[0] / shares[i] * 100:F0} %)" : ""));
        }
    }
}
