using System.Collections.Concurrent;
using System.Net;
using System.Text;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// The server's own telemetry over OTLP, as an operator turns it on: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, the SDK's
/// OTLP/HTTP exporter pushes traces (HTTP requests, grain calls), metrics and logs. The collector here is a loopback
/// HTTP listener that keeps what it receives.
/// </summary>
public sealed class ObservabilityTests
{
    [Fact]
    public async Task WithAnOtlpEndpointSetTracesMetricsAndLogsArePushedByOtlp()
    {
        var port = FreePorts.Next();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new ConcurrentDictionary<string, ConcurrentBag<byte[]>>();
        var collecting = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await listener.GetContextAsync(); }
                catch (Exception) { return; }
                try
                {
                    using var body = new MemoryStream();
                    await ctx.Request.InputStream.CopyToAsync(body);
                    received.GetOrAdd(ctx.Request.Url!.AbsolutePath, _ => []).Add(body.ToArray());
                    ctx.Response.StatusCode = 200;
                    ctx.Response.ContentType = "application/x-protobuf";
                    ctx.Response.Close();
                }
                catch (Exception) when (!listener.IsListening)
                {
                    return; // the test is over and stopped the listener while an export was in flight
                }
            }
        });

        var data = TempDirectory.Create("aiops-otlp-self");
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["AiOps__DataDirectory"] = data,
            ["AiOps__SiloPort"] = FreePorts.Next().ToString(),
            ["AiOps__GatewayPort"] = FreePorts.Next().ToString(),
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["Logging__LogLevel__Default"] = "Information",
        });
        server.Client.DefaultRequestHeaders.Authorization = new("Bearer", (await File.ReadAllTextAsync(Path.Combine(data, "bootstrap-admin.key"))).Trim());
        await server.Client.PostTelemetry(Event("model", "otlp-self", "predictions", 3));

        bool Has(string path, string text) =>
            received.TryGetValue(path, out var bodies) && bodies.Any(b => Encoding.UTF8.GetString(b).Contains(text, StringComparison.Ordinal));
        await Eventually.Until(() => Task.FromResult(Has("/v1/traces", "api/v1/telemetry") && Has("/v1/traces", "aiops")
                                                     && Has("/v1/metrics", "aiops.telemetry.events.accepted") && received.ContainsKey("/v1/logs")),
            ok => ok, TimeSpan.FromSeconds(30), "OTLP traces, metrics and logs at the collector");
        // Grain calls are traced too (Orleans' activity sources).
        await Eventually.Until(() => Task.FromResult(Has("/v1/traces", "IValueGrain") || Has("/v1/traces", "ValueGrain")), ok => ok, TimeSpan.FromSeconds(30), "a grain-call span");
        listener.Stop();
        await collecting;
    }
}
