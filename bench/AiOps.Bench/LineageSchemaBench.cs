using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AiOps.Server.Lineage;
using Json.Schema;

namespace AiOps.Bench;

/// <summary>
/// Validation cost per OpenLineage event, one thread: full JSON Schema evaluation of the spec's OpenLineage.json
/// (JsonSchema.Net, format assertions on, flag output) versus the server's hand-written check of the core fields
/// (<see cref="OpenLineageParser"/>: parse + check + the facets it reads), on the same events.
/// </summary>
public static class LineageSchemaBench
{
    public static Task<int> RunAsync(BenchArgs args)
    {
        var n = args.Int("events", 20_000);
        var spec = args.Get("spec") ?? FindSpec();
        var schema = JsonSchema.FromFile(spec);
        var options = new EvaluationOptions { OutputFormat = OutputFormat.Flag, RequireFormatValidation = true };
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var events = Enumerable.Range(0, 1000).Select(i => Encoding.UTF8.GetBytes(
            "{\"eventType\":\"COMPLETE\",\"eventTime\":\"" + start.AddSeconds(i).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'") + "\"," +
            "\"run\":{\"runId\":\"" + Guid.NewGuid() + "\",\"facets\":{\"parent\":{\"_producer\":\"https://x.test/p\",\"_schemaURL\":\"https://x.test/s\",\"job\":{\"namespace\":\"bench\",\"name\":\"scheduler\"},\"run\":{\"runId\":\"" + Guid.NewGuid() + "\"}}}}," +
            "\"job\":{\"namespace\":\"bench\",\"name\":\"job-" + i + "\",\"facets\":{}}," +
            "\"inputs\":[{\"namespace\":\"postgres://db:5432\",\"name\":\"public.in_" + i + "\"},{\"namespace\":\"postgres://db:5432\",\"name\":\"public.shared\"}]," +
            "\"outputs\":[{\"namespace\":\"s3://lake\",\"name\":\"warehouse/out_" + i + "\",\"outputFacets\":{\"outputStatistics\":{\"_producer\":\"https://x.test/p\",\"_schemaURL\":\"https://x.test/s\",\"rowCount\":" + (1000 + i) + "}}}]," +
            "\"producer\":\"https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/airflow\"," +
            "\"schemaURL\":\"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent\"}")).ToArray();

        // Sanity: both accept the event, and both refuse it without eventTime.
        using (var doc = JsonDocument.Parse(events[0]))
        {
            Console.WriteLine($"schema: bench event valid = {schema.Evaluate(doc.RootElement, options).IsValid}; hand check errors = {OpenLineageParser.Parse(events[0], DateTimeOffset.UtcNow).Errors.Count}");
        }
        var broken = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(events[0]).Replace("\"eventTime\"", "\"eventTimeX\""));
        using (var doc = JsonDocument.Parse(broken))
        {
            Console.WriteLine($"schema: event without eventTime valid = {schema.Evaluate(doc.RootElement, options).IsValid}; hand check errors = {OpenLineageParser.Parse(broken, DateTimeOffset.UtcNow).Errors.Count}");
        }

        for (var round = 1; round <= Math.Max(1, args.Int("rounds", 3)); round++)
        {
            var now = DateTimeOffset.UtcNow;
            var sw = Stopwatch.StartNew();
            var bad = 0;
            for (var i = 0; i < n; i++) if (OpenLineageParser.Parse(events[i % events.Length], now).Errors.Count > 0) bad++;
            var hand = n / sw.Elapsed.TotalSeconds;
            sw.Restart();
            for (var i = 0; i < n; i++)
            {
                using var doc = JsonDocument.Parse(events[i % events.Length]);
                if (!schema.Evaluate(doc.RootElement, options).IsValid) bad++;
            }
            var full = n / sw.Elapsed.TotalSeconds;
            Console.WriteLine($"round {round}: hand-written core check {hand,10:N0} events/s; JSON Schema (JsonSchema.Net 8.0.5, OpenLineage.json) {full,10:N0} events/s; ratio {hand / full:F1}x; invalid {bad}");
        }
        return Task.FromResult(0);
    }

    private static string FindSpec()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AiOps.sln"))) dir = dir.Parent;
        return Path.GetFullPath(Path.Combine(dir!.FullName, "..", "shared", "data", "openlineage", "spec", "OpenLineage.json"));
    }
}
