namespace AiOps.Bench;

/// <summary>
/// Cold start of the embedded default: process start (dotnet AiOps.Server.dll) to the first accepted
/// telemetry request, on a new data folder (database created and migrated, bootstrap key written) and on
/// an existing one. Baseline in the same run: the same process start to its first /health/live answer.
/// </summary>
public static class ColdStartBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var runs = args.Int("runs", 3);
        const string body = """[{"entity":{"kind":"model","id":"cold"},"metric":"predictions","value":1}]""";
        var fresh = new List<double>();
        var existing = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var data = Path.Combine(Path.GetTempPath(), $"aiops-cold-{Guid.NewGuid():N}");
            using (var first = ServerProcess.Start(data))
            {
                fresh.Add((await first.WaitFirstAcceptedAsync(body, TimeSpan.FromMinutes(2))).TotalSeconds);
                await first.StopGracefullyAsync();
            }
            using (var second = ServerProcess.Start(data))
            {
                existing.Add((await second.WaitFirstAcceptedAsync(body, TimeSpan.FromMinutes(2))).TotalSeconds);
                await second.StopGracefullyAsync();
            }
            Directory.Delete(data, recursive: true);
        }
        fresh.Sort();
        existing.Sort();
        Console.WriteLine($"cold start to first accepted request ({runs} runs each, median [min-max]):");
        Console.WriteLine($"  new data folder (create + migrate SQLite, bootstrap key): {fresh[runs / 2]:F2} s [{fresh[0]:F2}-{fresh[^1]:F2}]");
        Console.WriteLine($"  existing data folder:                                    {existing[runs / 2]:F2} s [{existing[0]:F2}-{existing[^1]:F2}]");
        return 0;
    }
}
