using System.Diagnostics.Metrics;
using AiOps.IntegrationTests.Infrastructure;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using static AiOps.IntegrationTests.Otlp.OtlpJson;

namespace AiOps.IntegrationTests.Otlp;

public sealed class OtlpServerFixture : IAsyncLifetime
{
    public OtlpServer Server { get; private set; } = null!;
    public string IngestKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await OtlpServer.StartAsync(new Dictionary<string, string>
        {
            ["AiOps:Otlp:MaxSeriesPerMetric"] = "4",
            ["AiOps:Otlp:MaxDataPointsPerRequest"] = "500",
        });
        IngestKey = await Server.CreateKeyAsync("ingest");
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// The OpenTelemetry .NET SDK's own OTLP exporter (HTTP/protobuf) pushes into the real server; the entity totals must
/// equal what the SDK recorded.
/// </summary>
public sealed class OtlpSdkTests(OtlpServerFixture fixture) : IClassFixture<OtlpServerFixture>
{
    private readonly OtlpServer _server = fixture.Server;

    private MeterProvider Provider(string meterName, ResourceBuilder resource, MetricReaderTemporalityPreference temporality) =>
        Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(meterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = new Uri(_server.BaseAddress, "v1/metrics");
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Headers = $"X-Api-Key={fixture.IngestKey}";
                reader.TemporalityPreference = temporality;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000; // only ForceFlush exports
            })
            .Build()!;

    private static ResourceBuilder EntityResource(string kind, string id) => ResourceBuilder.CreateEmpty()
        .AddService("aiops-tests")
        .AddAttributes([new("aiops.entity.kind", kind), new("aiops.entity.id", id)]);

    [Theory]
    [InlineData(MetricReaderTemporalityPreference.Cumulative)]
    [InlineData(MetricReaderTemporalityPreference.Delta)]
    public async Task TheSdkExporterPushesCountersGaugesAndHistogramsAndTheEntityTotalsEqualWhatItRecorded(MetricReaderTemporalityPreference temporality)
    {
        var id = $"sdk-{temporality.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}"[..24];
        using var meter = new Meter($"aiops.tests.{id}");
        var requests = meter.CreateCounter<long>("requests");
        var bytes = meter.CreateCounter<double>("payload.bytes");
        var duration = meter.CreateHistogram<double>("work.duration", "ms");
        var depth = meter.CreateGauge<double>("queue.depth");
        var inflight = meter.CreateUpDownCounter<long>("inflight"); // exported as a cumulative non-monotonic sum: a level
        using var provider = Provider(meter.Name, EntityResource("pipeline", id), temporality);

        var random = new Random(12);
        long requestTotal = 0;
        double bytesTotal = 0, durationSum = 0, lastDepth = 0;
        var durationCount = 0;
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < 25; i++)
            {
                var n = random.Next(1, 6);
                requests.Add(n, new KeyValuePair<string, object?>("route", i % 3 == 0 ? "/a" : "/b"));
                requestTotal += n;
                var b = Math.Round(random.NextDouble() * 1000, 3);
                bytes.Add(b);
                bytesTotal += b;
                var d = random.NextDouble() * 400;
                duration.Record(d);
                durationSum += d;
                durationCount++;
            }
            inflight.Add(5);
            inflight.Add(-2);
            lastDepth = round * 10 + 7;
            depth.Record(lastDepth);
            Assert.True(provider.ForceFlush(15_000), "the exporter's export failed");
        }

        var entity = await Eventually.Until(() => _server.Admin.GetJsonOrNull($"/api/v1/pipelines/{id}"),
            j => Total(j, "requests") == requestTotal && Total(j, "work.duration.count") == durationCount,
            because: $"requests {requestTotal}, histogram count {durationCount}");
        Assert.Equal(bytesTotal, Total(entity, "payload.bytes")!.Value, 6);
        Assert.Equal(durationSum, Total(entity, "work.duration.sum")!.Value, 6);
        Assert.Equal(lastDepth, LastValue(entity, "queue.depth"));
        Assert.Equal(4 * 3, LastValue(entity, "inflight"));
        // Quantiles derived from the SDK's default buckets (0, 5, 10, 25, 50, 75, 100, 250, 500, ...) lie within the recorded range.
        var p50 = LastValue(entity, "work.duration.p50");
        Assert.NotNull(p50);
        Assert.InRange(p50!.Value, 0, 400);
    }

    [Fact]
    public async Task GenAiConventionsFromTheSdkBecomeModelPredictionsErrorsTokensAndLatencyWithServiceNameAsTheModel()
    {
        var service = $"genai-{Guid.NewGuid():N}"[..20];
        using var meter = new Meter($"aiops.tests.{service}");
        var operation = meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s");
        var tokens = meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}");
        using var provider = Provider(meter.Name, ResourceBuilder.CreateEmpty().AddService(service, serviceVersion: "v3"), MetricReaderTemporalityPreference.Delta);

        KeyValuePair<string, object?> model = new("gen_ai.request.model", "gpt-test");
        operation.Record(0.2, model);
        operation.Record(0.4, model);
        operation.Record(1.0, model, new KeyValuePair<string, object?>("error.type", "timeout"));
        tokens.Record(100, model, new KeyValuePair<string, object?>("gen_ai.token.type", "input"));
        tokens.Record(50, model, new KeyValuePair<string, object?>("gen_ai.token.type", "input"));
        tokens.Record(30, model, new KeyValuePair<string, object?>("gen_ai.token.type", "output"));
        Assert.True(provider.ForceFlush(15_000), "the exporter's export failed");

        var entity = await Eventually.Until(() => _server.Admin.GetJsonOrNull($"/api/v1/models/{service}"),
            j => Total(j, "predictions") == 3 && Total(j, "tokens.output") == 30);
        Assert.Equal(1, Total(entity, "errors"));
        Assert.Equal(150, Total(entity, "tokens.input"));
        Assert.Equal(3, entity!["model"]!["predictionsTotal"]!.GetValue<double>());
        Assert.Equal("v3", entity["model"]!["currentVersion"]!.GetValue<string>()); // service.version → the events' version
        // latency_ms: one mean per series and interval, seconds converted to milliseconds: (0.2 + 0.4) / 2 and 1.0.
        Assert.Equal(2, Points(entity, "latency_ms"));
        Assert.Equal(300 + 1000, Total(entity, "latency_ms")!.Value, 6);
    }
}
