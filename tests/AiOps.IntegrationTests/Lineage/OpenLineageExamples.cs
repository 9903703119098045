using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace AiOps.IntegrationTests.Lineage;

/// <summary>
/// The OpenLineage example files under ../shared/data/openlineage/examples, and what a reader of the spec expects of
/// them (derived from the files, not hard-coded).
/// </summary>
public static class OpenLineageExamples
{
    public static string Directory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AiOps.sln"))) dir = dir.Parent;
        var path = Path.GetFullPath(Path.Combine(dir!.FullName, "..", "shared", "data", "openlineage", "examples"));
        Assert.True(System.IO.Directory.Exists(path), $"the OpenLineage examples are expected at {path}");
        return path;
    }

    /// <summary>Every example file, in name order, as its JSON (an event or an array of events).</summary>
    public static List<(string File, JsonNode Body)> Load() =>
        System.IO.Directory.GetFiles(Directory(), "*.json").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), JsonNode.Parse(File.ReadAllText(f))!))
            .ToList();

    public static IEnumerable<JsonObject> Events(JsonNode body) =>
        body is JsonArray a ? a.Select(e => e!.AsObject()) : [body.AsObject()];

    /// <summary>
    /// The first field a RunEvent/DatasetEvent/JobEvent is missing per the spec's required core (eventTime as a date-time,
    /// producer and schemaURL as URIs, run.runId as a UUID), as a JSON pointer; null when it has them all.
    /// </summary>
    public static string? FirstMissingCoreField(JsonObject e)
    {
        if (e["eventTime"] is not JsonValue t || !t.TryGetValue<string>(out var time)
            || !DateTimeOffset.TryParse(time, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out _))
            return "/eventTime";
        if (e["producer"] is not JsonValue p || !Uri.TryCreate(p.GetValue<string>(), UriKind.Absolute, out _)) return "/producer";
        if (e["schemaURL"] is not JsonValue s || !Uri.TryCreate(s.GetValue<string>(), UriKind.Absolute, out _)) return "/schemaURL";
        if (e["run"] is JsonObject run && (run["runId"] is not JsonValue id || !Guid.TryParse(id.GetValue<string>(), out _))) return "/run/runId";
        return null;
    }

    public static string JobNode(JsonObject e) => $"job:{e["job"]!["namespace"]}:{e["job"]!["name"]}";
    public static string DatasetNode(JsonNode d) => $"dataset:{d["namespace"]}:{d["name"]}";

    public static IEnumerable<JsonNode> Inputs(JsonObject e) => (e["inputs"] as JsonArray ?? []).Select(x => x!);
    public static IEnumerable<JsonNode> Outputs(JsonObject e) => (e["outputs"] as JsonArray ?? []).Select(x => x!);

    /// <summary>
    /// The integration tests' expected-event templates with what their matchers left open filled in: a run id shared by a
    /// run's START and COMPLETE (files named *_start/*_complete, or the events of one file), event times
    /// (START at <paramref name="from"/> + 10 min per run, COMPLETE <c>30 + run</c> seconds later), producer and schemaURL.
    /// Returns the bodies in file order and each run's expected duration by job node.
    /// </summary>
    public static (List<(string File, JsonNode Body)> Bodies, List<(string Job, double Seconds)> Durations) FillTemplates(DateTimeOffset from)
    {
        var bodies = new List<(string, JsonNode)>();
        var durations = new List<(string, double)>();
        var runs = new Dictionary<string, int>();
        foreach (var (file, original) in Load())
        {
            if (Events(original).All(e => FirstMissingCoreField(e) is null)) continue; // already complete
            var body = original.DeepClone();
            var group = file.Replace("_start.json", "").Replace("_complete.json", "").Replace(".json", "");
            if (!runs.TryGetValue(group, out var run)) runs[group] = run = runs.Count;
            var runId = Uuid(group);
            foreach (var e in Events(body))
            {
                var type = (string?)e["eventType"];
                var start = from.AddMinutes(10 * run);
                var at = type == "START" ? start : start.AddSeconds(30 + run);
                e["eventTime"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
                e["producer"] ??= "https://example.test/aiops-tests";
                e["schemaURL"] ??= "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
                var r = e["run"] as JsonObject ?? new JsonObject();
                e["run"] = r;
                r["runId"] = runId;
                if (r["facets"]?["parent"] is JsonObject parent)
                {
                    parent["run"] = new JsonObject { ["runId"] = Uuid("parent-" + group) };
                }
                if (type == "COMPLETE") durations.Add((JobNode(e), 30 + run));
            }
            bodies.Add((file, body));
        }
        return (bodies, durations);
    }

    private static string Uuid(string seed) => new Guid(MD5.HashData(Encoding.UTF8.GetBytes(seed))).ToString();
}
