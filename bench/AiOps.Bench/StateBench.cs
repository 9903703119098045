using System.Diagnostics;
using AiOps.Abstractions;
using Microsoft.Data.Sqlite;

namespace AiOps.Bench;

/// <summary>
/// State size: N entities (default 10,000) each receive a day of per-minute telemetry (two metrics for
/// pipelines and models, spend for cost centers, every event with an id). Reports the persisted state per
/// entity (the SQLite rows the grains write) and the process working set.
/// </summary>
public static class StateBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var entities = args.Int("entities", 10_000);
        var settings = new Dictionary<string, string?> { ["AiOps:Grains:PersistInterval"] = "01:00:00" };
        if (args.Get("no-detection") is not null) settings["AiOps:Grains:Detection"] = "false"; // memory without ML models
        await using var server = await BenchServer.StartAsync(settings);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var before = Process.GetCurrentProcess().WorkingSet64;
        var managedBefore = GC.GetTotalMemory(true);
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        var sw = Stopwatch.StartNew();
        long events = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, entities), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (e, _) =>
        {
            var kind = (EntityKind)(e % 3);
            var id = $"state-{e}";
            var grain = server.Client.GetEntity(kind, id);
            string[] metrics = kind switch
            {
                EntityKind.Pipeline => [MetricVocabulary.RunDurationSeconds, MetricVocabulary.RowsOut],
                EntityKind.Model => [MetricVocabulary.Predictions, MetricVocabulary.LatencyMs],
                _ => [MetricVocabulary.Cost],
            };
            // One batch per hour, as a producer would send it.
            for (var hour = 0; hour < 24; hour++)
            {
                var points = new List<TelemetryPoint>(60 * metrics.Length);
                for (var m = hour * 60; m < (hour + 1) * 60; m++)
                {
                    var ts = start.AddMinutes(m).ToUnixTimeMilliseconds();
                    foreach (var metric in metrics)
                    {
                        KeyValuePair<string, string>[]? attributes = kind == EntityKind.CostCenter ? [new("service", m % 3 == 0 ? "gpu" : "storage")] : null;
                        points.Add(new TelemetryPoint(metric, 10 + Math.Sin(m / 60.0) + (m % 7), ts, TelemetryPoint.HashId($"{id}-{metric}-{m}"), attributes));
                    }
                }
                await grain.ApplyAsync(TelemetryBatch.Create(kind, points));
                Interlocked.Add(ref events, points.Count);
            }
            await grain.FlushAsync();
        });
        var seconds = sw.Elapsed.TotalSeconds;

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var after = Process.GetCurrentProcess().WorkingSet64;
        var managedAfter = GC.GetTotalMemory(true);

        await using var conn = new SqliteConnection($"Data Source={Path.Combine(server.DataDirectory, "aiops.db")}");
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT GrainTypeString, count(*), avg(length(PayloadBinary)), max(length(PayloadBinary))
            FROM OrleansStorage GROUP BY GrainTypeString HAVING count(*) > 100
            """;
        Console.WriteLine($"state: {entities:N0} entities, a day of per-minute telemetry each ({events:N0} events applied in {seconds:F1} s)");
        Console.WriteLine("persisted state per entity (System.Text.Json row incl. compressed series, ids window, summaries):");
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                Console.WriteLine($"  {reader.GetString(0),-11} {reader.GetInt64(1),6} rows   mean {reader.GetDouble(2) / 1024,6:F2} KB   max {reader.GetInt64(3) / 1024.0,6:F2} KB");
        }
        Console.WriteLine($"process working set: {before / 1048576.0:F0} MiB before, {after / 1048576.0:F0} MiB after ({(after - before) / (double)entities / 1024:F1} KiB per active entity)");
        Console.WriteLine($"managed heap: {managedBefore / 1048576.0:F0} MiB before, {managedAfter / 1048576.0:F0} MiB after ({(managedAfter - managedBefore) / (double)entities / 1024:F1} KiB per active entity)");
        return 0;
    }
}
