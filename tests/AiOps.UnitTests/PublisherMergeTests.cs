using System.Text;
using AiOps.Abstractions;
using AiOps.Server.Ingestion;

namespace AiOps.UnitTests;

/// <summary>
/// The publisher's merge of buffered requests into one batch per entity: per entity, points keep the order they
/// arrived in across requests, and logged requests give each batch its (log position, count) runs in point order.
/// </summary>
public sealed class PublisherMergeTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-30T12:00:00Z");

    private static ParsedBatch Request(long logPosition, params (string Kind, string Id, double Value)[] events)
    {
        var body = string.Join("\n", events.Select(e => $"{{\"entity\":{{\"kind\":\"{e.Kind}\",\"id\":\"{e.Id}\"}},\"metric\":\"cost\",\"value\":{e.Value}}}"));
        var batch = TelemetryParser.Parse(Encoding.UTF8.GetBytes(body), Now);
        batch.LogPosition = logPosition;
        return batch;
    }

    [Fact]
    public void EachEntityGetsOneBatchWithItsPointsInArrivalOrderAndItsLogRuns()
    {
        var pending = new List<ParsedBatch>
        {
            Request(100, ("model", "a", 1), ("pipeline", "b", 10), ("model", "a", 2)),
            Request(200, ("pipeline", "b", 11), ("costcenter", "c", 100)),
            Request(300, ("model", "a", 3), ("model", "a", 4), ("pipeline", "b", 12)),
        };
        var merged = TelemetryPublisher.Merge(pending).ToDictionary(x => x.Key.ToString(), x => x.Batch);

        Assert.Equal(["model/a", "pipeline/b", "costcenter/c"], merged.Keys);
        Assert.Equal([1.0, 2, 3, 4], merged["model/a"].Points().Select(p => p.Value));
        Assert.Equal([10.0, 11, 12], merged["pipeline/b"].Points().Select(p => p.Value));
        Assert.Equal([100.0], merged["costcenter/c"].Points().Select(p => p.Value));
        Assert.Equal([100L, 2, 300, 2], merged["model/a"].LogSegments!);
        Assert.Equal([100L, 1, 200, 1, 300, 1], merged["pipeline/b"].LogSegments!);
        Assert.Equal([200L, 1], merged["costcenter/c"].LogSegments!);
        Assert.Equal(EntityKind.CostCenter, merged["costcenter/c"].Kind);
        foreach (var p in pending) p.Release();
    }

    [Fact]
    public void RequestsThatWereNotLoggedCarryNoLogRuns()
    {
        var pending = new List<ParsedBatch> { Request(0, ("model", "a", 1)), Request(0, ("model", "a", 2)) };
        var (key, batch) = Assert.Single(TelemetryPublisher.Merge(pending));
        Assert.Equal("model/a", key.ToString());
        Assert.Null(batch.LogSegments);
        Assert.Equal(2, batch.Count);
        foreach (var p in pending) p.Release();
    }
}
