using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// The metrics endpoint as operators use it: a real Prometheus server scrapes the server process with a
/// reader key, and the application's figures come back through Prometheus' own query API.
/// </summary>
public sealed class PrometheusTests
{
    [Fact]
    public async Task PrometheusScrapesTheServerWithAReaderKeyAndSeesTheIngestCounters()
    {
        PrometheusServer.FindBinary(); // fail fast, with the install hint, before starting anything

        var data = TempDirectory.Create("aiops-prom");
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["AiOps__DataDirectory"] = data,
            ["AiOps__SiloPort"] = FreePorts.Next().ToString(),
            ["AiOps__GatewayPort"] = FreePorts.Next().ToString(),
        });
        var admin = (await File.ReadAllTextAsync(Path.Combine(data, "bootstrap-admin.key"))).Trim();
        server.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin);

        var created = await server.Client.PostAsJsonAsync("/api/v1/keys", new { name = "prometheus", role = "reader" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var readerKey = (string)(await created.ReadJson())["key"]!;

        // 7 valid events and 2 invalid ones (different fields at fault) in one request.
        var now = DateTimeOffset.UtcNow;
        var events = Enumerable.Range(0, 7)
            .Select(i => Event("costcenter", "cc-prom", "cost", 1, now.AddMinutes(-i), eventId: $"p-{i}"))
            .Append(Event("nosuchkind", "x", "cost", 1))
            .Append(Event("costcenter", "cc-prom", "Not A Metric!", 1))
            .ToArray();
        var reply = await server.Client.PostTelemetry(events);
        Assert.Equal(7, (int)reply["accepted"]!);
        Assert.Equal(2, (int)reply["rejected"]!);

        // The endpoint itself: no key → 401; the reader key gets the text format, which promtool must parse.
        using (var anonymous = new HttpClient { BaseAddress = server.Client.BaseAddress })
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        using var reader = new HttpClient { BaseAddress = server.Client.BaseAddress };
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", readerKey);
        var scrape = await reader.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        var exposition = await scrape.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE aiops_telemetry_events_accepted_total counter", exposition);
        Assert.Contains("# TYPE aiops_telemetry_stream_backlog gauge", exposition);
        // Instruments recorded inside the grains come from the same meter factory (created with the first grain that scores).
        await Eventually.Until(async () => await reader.GetStringAsync("/metrics"),
            text => text.Contains("aiops_anomaly_points_scored_total") && text.Contains("# TYPE aiops_anomaly_training_share gauge"),
            because: "points scored by the grains' detectors on /metrics");
        var check = await PrometheusServer.CheckMetricsAsync(exposition);
        if (check is { } c)
            Assert.True(c.Parsed, $"promtool check metrics could not parse the exposition (exit {c.ExitCode}):\n{c.Output}");

        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{server.HttpPort}", readerKey);
        var context = () => $"\nprometheus:\n{prometheus.Output}\nserver:\n{server.Output}";

        var targets = await Eventually.Until(prometheus.ActiveTargetsAsync,
            t => t.Count == 1 && (string?)t[0]!["health"] == "up", TimeSpan.FromSeconds(60), "the AiOps target is up" + context());
        Assert.Equal(PrometheusServer.Job, (string)targets[0]!["labels"]!["job"]!);
        Assert.Equal($"http://127.0.0.1:{server.HttpPort}/metrics", (string)targets[0]!["scrapeUrl"]!);

        // Everything was sent before Prometheus started, so the first sample already holds the final value.
        var accepted = await Eventually.Until(() => prometheus.QueryAsync("aiops_telemetry_events_accepted_total"),
            r => r.Count > 0, TimeSpan.FromSeconds(60), "accepted counter scraped" + context());
        Assert.Single(accepted);
        Assert.Equal(7, accepted[0].Value);
        Assert.Equal(PrometheusServer.Job, (string)accepted[0].Labels["job"]!);
        Assert.Equal($"127.0.0.1:{server.HttpPort}", (string)accepted[0].Labels["instance"]!);

        var rejected = await prometheus.QueryAsync("aiops_telemetry_events_rejected_total");
        Assert.Equal(
            new Dictionary<string, double> { ["entity.kind"] = 1, ["metric"] = 1 },
            rejected.ToDictionary(r => (string)r.Labels["reason"]!, r => r.Value));

        var published = await prometheus.QueryAsync("aiops_telemetry_events_published_total");
        Assert.Equal(7, Assert.Single(published).Value);

        // The grains take the events off the stream: the backlog gauge drains to 0; the lag gauge is exported.
        var backlog = await Eventually.Until(() => prometheus.QueryAsync("aiops_telemetry_stream_backlog"),
            r => r.Count == 1 && r[0].Value == 0, TimeSpan.FromSeconds(60), "backlog drained" + context());
        Assert.Equal(0, backlog[0].Value);
        var consumed = await Eventually.Until(() => prometheus.QueryAsync("aiops_telemetry_events_consumed_total"),
            r => r.Count == 1 && r[0].Value == 7, TimeSpan.FromSeconds(60), "consumed counter at 7" + context());
        Assert.Equal(7, consumed[0].Value);
        var lag = await Eventually.Until(() => prometheus.QueryAsync("aiops_telemetry_stream_lag_milliseconds"),
            r => r.Count > 0, TimeSpan.FromSeconds(60), "lag gauge scraped" + context());
        Assert.True(Assert.Single(lag).Value >= 0);

        // The other registered meters arrive through the same scrape: ASP.NET Core (exactly one ingest request) and Orleans.
        var ingestRequests = await prometheus.QueryAsync(
            "sum(http_server_request_duration_seconds_count{http_route=\"/api/v1/telemetry\",http_request_method=\"POST\"})");
        Assert.Equal(1, Assert.Single(ingestRequests).Value);
        var orleansFamilies = await prometheus.QueryAsync("count(count by (__name__) ({job=\"aiops\",__name__=~\"orleans_.+\"}))");
        Assert.True(Assert.Single(orleansFamilies).Value >= 10, $"Orleans metric families: {orleansFamilies[0].Value}");

        var up = await prometheus.QueryAsync($"up{{job=\"{PrometheusServer.Job}\"}}");
        Assert.Equal(1, Assert.Single(up).Value);
    }
}
