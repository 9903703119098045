using AiOps.Grains;
using AiOps.Abstractions;
using AiOps.Grains.Entities;
using AiOps.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace AiOps.IntegrationTests;

/// <summary>The entity and value grains on an in-process Orleans test cluster (memory storage and streams).</summary>
public sealed class GrainTests : IClassFixture<GrainTests.Cluster>
{
    public sealed class Cluster : IAsyncLifetime
    {
        public InProcessTestCluster Host { get; private set; } = null!;
        public IGrainFactory Grains => Host.Client;

        public async Task InitializeAsync()
        {
            var builder = new InProcessTestClusterBuilder(1);
            builder.ConfigureSilo((_, silo) =>
            {
                silo.AddAiOpsGrains(); // as the server registers them
                silo.AddMemoryGrainStorage(StorageNames.Entities);
                silo.AddMemoryStreams(StreamNames.Provider, b => b.ConfigureStreamPubSub(Orleans.Streams.StreamPubSubType.ImplicitOnly));
                silo.Services.Configure<EntityGrainOptions>(o => o.DigestInterval = TimeSpan.FromMilliseconds(100));
            });
            builder.ConfigureClient(client => client.AddMemoryStreams(StreamNames.Provider));
            Host = builder.Build();
            await Host.DeployAsync();
        }

        public async Task DisposeAsync() => await Host.DisposeAsync();
    }

    private readonly Cluster _cluster;

    public GrainTests(Cluster cluster) => _cluster = cluster;

    private static TelemetryBatch Batch(EntityKind kind, params TelemetryPoint[] points) => TelemetryBatch.Create(kind, points);

    private static TelemetryPoint Point(string metric, double value, DateTimeOffset at, string? id = null) =>
        new(metric, value, at.ToUnixTimeMilliseconds(), id is null ? 0 : TelemetryPoint.HashId(id), null);

    [Fact]
    public async Task ABatchRedeliveredByTheStreamIsAppliedOnce()
    {
        var grain = _cluster.Grains.GetGrain<IModelGrain>($"m-{Guid.NewGuid():N}");
        var now = DateTimeOffset.UtcNow;
        var batch = Batch(EntityKind.Model, Point("predictions", 10, now), Point("predictions", 20, now));
        await grain.ApplyAsync(batch);
        await grain.ApplyAsync(batch);
        var s = await grain.GetSummaryAsync();
        Assert.Equal(2, s.EventsApplied);
        Assert.Equal(2, s.DuplicatesDropped);
        Assert.Equal(30, s.Model!.PredictionsTotal);
    }

    [Fact]
    public async Task SeriesStayBoundedHoweverLongTheEntityRuns()
    {
        var grain = _cluster.Grains.GetGrain<IPipelineGrain>($"p-{Guid.NewGuid():N}");
        var start = DateTimeOffset.UtcNow.AddDays(-60);
        for (var day = 0; day < 60; day++)
        {
            var points = Enumerable.Range(0, 288).Select(i => Point("run.duration_seconds", i, start.AddDays(day).AddMinutes(5 * i))).ToArray();
            await grain.ApplyAsync(Batch(EntityKind.Pipeline, points));
        }
        var raw = await grain.GetSeriesAsync("run.duration_seconds", SeriesResolution.Raw, 100_000);
        var hourly = await grain.GetSeriesAsync("run.duration_seconds", SeriesResolution.Hour, 100_000);
        var daily = await grain.GetSeriesAsync("run.duration_seconds", SeriesResolution.Day, 100_000);
        Assert.Equal(64, raw!.Points.Count);
        Assert.Equal(48, hourly!.Points.Count);
        Assert.Equal(35, daily!.Points.Count);
        Assert.Equal(287, raw.Points[^1].Value);
        Assert.Equal(288, daily.Points[^2].Count);
        var summary = await grain.GetSummaryAsync();
        Assert.Equal(60 * 288, summary.Metrics.Single().Points);
    }

    [Fact]
    public async Task TelemetryPublishedToAnEntityStreamReachesItsGrain()
    {
        var id = $"cc-{Guid.NewGuid():N}";
        var stream = _cluster.Host.Client.GetStreamProvider(StreamNames.Provider)
            .GetStream<TelemetryBatch>(StreamId.Create(StreamNames.CostCenterNamespace, id));
        await stream.OnNextAsync(Batch(EntityKind.CostCenter, Point("cost", 4, DateTimeOffset.UtcNow)));
        var grain = _cluster.Grains.GetGrain<ICostCenterGrain>(id);
        var s = await Eventually.Until(() => grain.GetSummaryAsync(), x => x.EventsApplied == 1);
        Assert.Equal(4, s.CostCenter!.SpendMonthToDate);
    }

    [Fact]
    public async Task EntitiesReportDigestsToTheValueGrainNotRawEvents()
    {
        var id = $"cc-{Guid.NewGuid():N}";
        var grain = _cluster.Grains.GetGrain<ICostCenterGrain>(id);
        await grain.PutMetadataAsync(new EntityMetadata { MonthlyBudget = 100, Team = "t" });
        await grain.ApplyAsync(Batch(EntityKind.CostCenter, Point("cost", 25, DateTimeOffset.UtcNow)));
        var value = _cluster.Grains.GetGrain<IValueGrain>(IValueGrain.DefaultKey);
        var digest = await Eventually.Until(
            async () => (await value.ListAsync(EntityKind.CostCenter, 0, 1000)).Items.FirstOrDefault(d => d.Id == id),
            d => d?.CostMonthToDate == 25);
        Assert.Equal(100, digest!.MonthlyBudget);
        Assert.Equal("t", digest.Team);
    }

    [Fact]
    public async Task LatePointsCountInRollupsButDoNotRewindTheRawWindow()
    {
        var grain = _cluster.Grains.GetGrain<IModelGrain>($"m-{Guid.NewGuid():N}");
        var now = DateTimeOffset.UtcNow;
        await grain.ApplyAsync(Batch(EntityKind.Model, Point("latency_ms", 10, now)));
        await grain.ApplyAsync(Batch(EntityKind.Model, Point("latency_ms", 99, now.AddMinutes(-5))));
        var raw = await grain.GetSeriesAsync("latency_ms", SeriesResolution.Raw, 10);
        Assert.Single(raw!.Points);
        var s = await grain.GetSummaryAsync();
        Assert.Equal(10, s.Model!.LatencyMsLast);
        Assert.Equal(2, s.Metrics.Single().Points);
    }
}

public sealed class TelemetryBatchEncodingTests
{
    [Fact]
    public void ABatchRoundTripsEveryFieldOfEveryPoint()
    {
        var points = new[]
        {
            new TelemetryPoint("cost", 12.5, 1_700_000_000_000, TelemetryPoint.HashId("line-1"), [new("service", "gpu"), new("resource", "a100")]),
            new TelemetryPoint("cost", -0.25, 1_699_999_999_000, 0, null),
            new TelemetryPoint("gpu.hours", double.MaxValue, 1_700_000_060_000, 42, null),
        };
        var batch = TelemetryBatch.Create(EntityKind.CostCenter, points);
        var decoded = batch.Points().ToList();
        Assert.Equal(3, batch.Count);
        Assert.Equal(points.Length, decoded.Count);
        for (var i = 0; i < points.Length; i++)
        {
            Assert.Equal(points[i].Metric, decoded[i].Metric);
            Assert.Equal(points[i].Value, decoded[i].Value);
            Assert.Equal(points[i].TimestampMs, decoded[i].TimestampMs);
            Assert.Equal(points[i].EventIdHash, decoded[i].EventIdHash);
            Assert.Equal(points[i].Attributes ?? [], decoded[i].Attributes ?? []);
        }
    }

    [Fact]
    public void IdHashesAgreeForBytesAndChars() =>
        Assert.Equal(TelemetryPoint.HashId("evt-42:a@b"), TelemetryPoint.HashId("evt-42:a@b"u8));
}
