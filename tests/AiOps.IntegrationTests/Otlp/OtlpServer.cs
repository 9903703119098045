using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using AiOps.Server;
using Microsoft.AspNetCore.Builder;

namespace AiOps.IntegrationTests.Otlp;

/// <summary>
/// The real server (embedded mode) on real Kestrel on a loopback port, in the test process: what an OpenTelemetry
/// exporter talks to (the in-memory test server of WebApplicationFactory has no socket).
/// </summary>
public sealed class OtlpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpServer(WebApplication app, string data, int port)
    {
        _app = app;
        DataDirectory = data;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        Admin = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
    }

    public string DataDirectory { get; }
    public Uri BaseAddress { get; }
    public string AdminKey => File.ReadAllText(Path.Combine(DataDirectory, "bootstrap-admin.key")).Trim();
    public HttpClient Admin { get; }

    public static async Task<OtlpServer> StartAsync(IDictionary<string, string>? settings = null)
    {
        var data = TempDirectory.Create("aiops-otlp");
        var port = FreePorts.Next();
        var args = new List<string>
        {
            "--urls", $"http://127.0.0.1:{port}",
            "--environment", "Testing",
            "--AiOps:Mode", "Embedded",
            "--AiOps:DataDirectory", data,
            "--AiOps:SiloPort", FreePorts.Next().ToString(),
            "--AiOps:GatewayPort", FreePorts.Next().ToString(),
            "--AiOps:Grains:DigestInterval", "00:00:00.200",
            "--Logging:LogLevel:Default", "Warning",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) { args.Add($"--{k}"); args.Add(v); }
        var app = AiOpsApplication.Create(args.ToArray());
        await app.StartAsync();
        return new OtlpServer(app, data, port);
    }

    /// <summary>A fresh key of the role, created through the API.</summary>
    public async Task<string> CreateKeyAsync(string role)
    {
        var r = await Admin.PostAsJsonAsync("/api/v1/keys", new { name = $"otlp-{role}-{Guid.NewGuid():N}"[..30], role });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>OTLP/JSON bodies in the shape of the OTLP specification's examples, with this run's timestamps.</summary>
public static class OtlpJson
{
    public static string Nanos(DateTimeOffset t) => (t.ToUnixTimeMilliseconds() * 1_000_000L).ToString();

    public static JsonObject Attr(string key, string value) => new() { ["key"] = key, ["value"] = new JsonObject { ["stringValue"] = value } };

    public static JsonObject Request(JsonArray resourceAttributes, params JsonObject[] metrics) => new()
    {
        ["resourceMetrics"] = new JsonArray(new JsonObject
        {
            ["resource"] = new JsonObject { ["attributes"] = resourceAttributes },
            ["scopeMetrics"] = new JsonArray(new JsonObject
            {
                ["scope"] = new JsonObject { ["name"] = "aiops.tests", ["version"] = "1.0.0" },
                ["metrics"] = new JsonArray(metrics.Select(m => (JsonNode)m).ToArray()),
            }),
        }),
    };

    public static JsonArray Entity(string kind, string id) => new(Attr("aiops.entity.kind", kind), Attr("aiops.entity.id", id));

    public static JsonObject Sum(string name, int temporality, bool monotonic, params JsonObject[] points) => new()
    {
        ["name"] = name,
        ["unit"] = "1",
        ["sum"] = new JsonObject
        {
            ["aggregationTemporality"] = temporality,
            ["isMonotonic"] = monotonic,
            ["dataPoints"] = new JsonArray(points.Select(p => (JsonNode)p).ToArray()),
        },
    };

    public static JsonObject Gauge(string name, params JsonObject[] points) => new()
    {
        ["name"] = name,
        ["unit"] = "1",
        ["gauge"] = new JsonObject { ["dataPoints"] = new JsonArray(points.Select(p => (JsonNode)p).ToArray()) },
    };

    public static JsonObject Point(double value, DateTimeOffset time, DateTimeOffset? start = null, params JsonObject[] attributes)
    {
        var p = new JsonObject { ["asDouble"] = value, ["timeUnixNano"] = Nanos(time) };
        if (start is not null) p["startTimeUnixNano"] = Nanos(start.Value);
        if (attributes.Length > 0) p["attributes"] = new JsonArray(attributes.Select(a => (JsonNode)a).ToArray());
        return p;
    }

    public static StringContent Content(JsonObject request) => new(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    public static double? Total(JsonNode? entity, string metric) =>
        entity?["metrics"]?.AsArray().FirstOrDefault(m => m!["name"]!.GetValue<string>() == metric)?["total"]?.GetValue<double>();

    public static double? LastValue(JsonNode? entity, string metric) =>
        entity?["metrics"]?.AsArray().FirstOrDefault(m => m!["name"]!.GetValue<string>() == metric)?["lastValue"]?.GetValue<double>();

    public static long? Points(JsonNode? entity, string metric) =>
        entity?["metrics"]?.AsArray().FirstOrDefault(m => m!["name"]!.GetValue<string>() == metric)?["points"]?.GetValue<long>();
}
