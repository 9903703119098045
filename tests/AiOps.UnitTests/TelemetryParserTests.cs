using System.Text;
using AiOps.Abstractions;
using AiOps.Server.Ingestion;

namespace AiOps.UnitTests;

/// <summary>The native telemetry parser: shapes, per-event validation with the field named, limits.</summary>
public sealed class TelemetryParserTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-30T12:00:00Z");

    private static ParsedBatch Parse(string body, int maxEvents = Limits.MaxEventsPerRequest) =>
        TelemetryParser.Parse(Encoding.UTF8.GetBytes(body), Now, maxEvents);

    [Fact]
    public void AnArrayAndNdjsonGiveTheSamePointsGroupedByEntityInArrivalOrder()
    {
        const string a = """{"entity":{"kind":"pipeline","id":"p1"},"metric":"rows.out","value":5,"timestamp":"2026-11-30T11:00:00Z"}""";
        const string b = """{"entity":{"kind":"model","id":"m1"},"metric":"predictions","value":7}""";
        const string c = """{"entity":{"kind":"pipeline","id":"p1"},"metric":"rows.out","value":6,"timestamp":"2026-11-30T11:01:00Z","id":"e-1"}""";
        foreach (var body in new[] { $"[{a},{b},{c}]", $"{a}\n{b}\n\n{c}\n" })
        {
            var batch = Parse(body);
            Assert.Equal(3, batch.Accepted);
            Assert.Equal(3, batch.Total);
            Assert.Equal([new EntityKey(EntityKind.Pipeline, "p1"), new EntityKey(EntityKind.Model, "m1")], batch.Entities);
            var p1 = batch.PointsOf(new EntityKey(EntityKind.Pipeline, "p1"));
            Assert.Equal([5.0, 6.0], p1.Select(p => p.Value));
            Assert.Equal(DateTimeOffset.Parse("2026-11-30T11:00:00Z").ToUnixTimeMilliseconds(), p1[0].TimestampMs);
            Assert.Equal(0UL, p1[0].EventIdHash);
            Assert.Equal(TelemetryPoint.HashId("e-1"), p1[1].EventIdHash);
            Assert.Equal(Now.ToUnixTimeMilliseconds(), batch.PointsOf(new EntityKey(EntityKind.Model, "m1"))[0].TimestampMs); // default: now
            batch.Release();
        }
    }

    [Theory]
    [InlineData("""{"entity":{"kind":"ship","id":"x"},"metric":"cost","value":1}""", "entity.kind")]
    [InlineData("""{"entity":{"kind":"model","id":"a/b"},"metric":"cost","value":1}""", "entity.id")]
    [InlineData("""{"entity":{"kind":"model","id":"m"},"metric":"Bad Name","value":1}""", "metric")]
    [InlineData("""{"entity":{"kind":"pipeline","id":"p"},"metric":"predictions","value":1}""", "metric")]
    [InlineData("""{"entity":{"kind":"model","id":"m"},"metric":"cost","value":"1"}""", "value")]
    [InlineData("""{"entity":{"kind":"model","id":"m"},"metric":"cost","value":1.7976931348623157e308}""", "value")]
    [InlineData("""{"entity":{"kind":"model","id":"m"},"metric":"cost","value":1e16}""", "value")]
    [InlineData("""{"entity":{"kind":"model","id":"m"},"metric":"cost"}""", "value")]
    [InlineData("""{"entity":{"kind":"model","id":"m"},"metric":"cost","value":1,"timestamp":"2026-11-30T12:06:00Z"}""", "timestamp")]
    [InlineData("""{"entity":{"kind":"model","id":"m"},"metric":"cost","value":1,"timestamp":"1999-12-31T23:59:59Z"}""", "timestamp")]
    [InlineData("""{"entity":{"kind":"model","id":"m"},"metric":"cost","value":1,"timestamp":"2026-11-30T11:00:00"}""", "timestamp")]
    [InlineData("""{"entity":{"kind":"model","id":"m"},"metric":"cost","value":1,"attributes":[1]}""", "attributes")]
    public void AnInvalidEventIsRejectedAloneWithItsFieldNamed(string bad, string field)
    {
        var good = """{"entity":{"kind":"model","id":"ok"},"metric":"cost","value":2}""";
        var batch = Parse($"[{good},{bad}]");
        Assert.Equal(1, batch.Accepted);
        Assert.Equal(2, batch.Total);
        var rejection = Assert.Single(batch.Rejections);
        Assert.Equal(1, rejection.Index);
        Assert.Equal(field, rejection.Field);
        batch.Release();
    }

    [Fact]
    public void ABodyThatIsNotJsonIsAFormatErrorAndTooManyEventsAreRefused()
    {
        Assert.Throws<TelemetryFormatException>(() => Parse("[{\"entity\":"));
        Assert.Throws<TelemetryFormatException>(() => Parse(""));
        Assert.Throws<TelemetryFormatException>(() => Parse("[]"));
        var scalar = Parse("42"); // a value that is not an object is one rejected event (the API answers 400: none valid)
        Assert.Equal(0, scalar.Accepted);
        Assert.Equal("event", Assert.Single(scalar.Rejections).Field);
        scalar.Release();
        var one = """{"entity":{"kind":"model","id":"m"},"metric":"cost","value":1}""";
        var ex = Assert.Throws<TelemetryFormatException>(() => Parse(string.Join("\n", Enumerable.Repeat(one, 4)), maxEvents: 3));
        Assert.Contains("3", ex.Message);
    }
}
