using System.Buffers.Binary;
using System.Text;
using AiOps.Server.Otlp;
using Microsoft.Extensions.Options;

namespace AiOps.UnitTests;

public sealed class OtlpTests
{
    [Fact]
    public void AnExplicitBucketQuantileInterpolatesInsideItsBucket()
    {
        Assert.Equal(15, HistogramQuantiles.Explicit([10, 20], [0, 4, 0], 0.5, null, null));
        Assert.Equal(12.5, HistogramQuantiles.Explicit([10, 20], [0, 4, 0], 0.25, null, null));
    }

    [Fact]
    public void AQuantileInAnOpenBucketIsGivenOnlyWhenMinOrMaxClosesIt()
    {
        Assert.Null(HistogramQuantiles.Explicit([10], [0, 5], 0.5, null, null));
        Assert.Equal(20, HistogramQuantiles.Explicit([10], [0, 5], 0.5, null, 30));
        Assert.Null(HistogramQuantiles.Explicit([10], [5, 0], 0.5, null, null));
        Assert.Equal(5, HistogramQuantiles.Explicit([10], [5, 0], 0.5, 0, null));
    }

    [Fact]
    public void ExponentialQuantilesUseTheBucketBoundsOfTheScale()
    {
        // scale 0 (base 2), offset 2: (4, 8], (8, 16], (16, 32] holding 2, 6, 2
        Assert.Equal(12, HistogramQuantiles.Exponential(0, 0, 0, 2, [2, 6, 2], 0, [], 0.5, null, null));
        // scale 1 (base √2): index 2 covers (2, 2√2]
        var q = HistogramQuantiles.Exponential(1, 0, 0, 2, [4], 0, [], 1, null, null)!.Value;
        Assert.Equal(2 * Math.Sqrt(2), q, 9);
        // negative values and the zero bucket come first
        Assert.Equal(0, HistogramQuantiles.Exponential(0, 2, 0, 0, [2], 0, [2], 0.5, null, null));
    }

    [Theory]
    [InlineData(0.5, "p50")]
    [InlineData(0.95, "p95")]
    [InlineData(0.999, "p999")]
    public void QuantileSuffixes(double q, string suffix) => Assert.Equal(suffix, HistogramQuantiles.Suffix(q));

    [Theory]
    [InlineData("http.server.Request-Duration", "http.server.request_duration")]
    [InlineData("gen_ai.client.token.usage", "gen_ai.client.token.usage")]
    [InlineData("9lives", null)]
    [InlineData("", null)]
    public void InstrumentNamesBecomePlatformMetricNames(string instrument, string? expected) =>
        Assert.Equal(expected, OtlpTranslator.MetricName(instrument));

    [Fact]
    public void UnitsConvertBetweenTimeUnitsOnly()
    {
        Assert.Equal(1000, OtlpTranslator.UnitScale("s", "ms"));
        Assert.Equal(1, OtlpTranslator.UnitScale("ms", "ms"));
        Assert.Equal(1, OtlpTranslator.UnitScale("", "ms"));
        Assert.Equal(0.001, OtlpTranslator.UnitScale("us", "ms"), 12);
        Assert.True(double.IsNaN(OtlpTranslator.UnitScale("By", "ms")));
    }

    [Fact]
    public void ExponentialBucketsDownscaleAndSubtractByIndex()
    {
        var (offset, counts) = OtlpTranslator.Downscale(3, [1, 2, 3, 4], 1);
        Assert.Equal(1, offset);
        Assert.Equal([1UL, 5, 4], counts);
        Assert.True(OtlpTranslator.Subtract([5, 5], 0, [2], 1, out var delta, out var deltaOffset));
        Assert.Equal(0, deltaOffset);
        Assert.Equal([5UL, 3], delta);
        Assert.False(OtlpTranslator.Subtract([1], 0, [2], 0, out _, out _));
    }

    [Fact]
    public void TheProtobufReaderDecodesPointsAndSkipsUnknownFields()
    {
        var point = new Proto()
            .Message(7, KeyValue("route", "/a"))
            .Fixed64(2, 1_700_000_000_000_000_000)
            .Fixed64(3, 1_700_000_010_000_000_000)
            .Fixed64(6, unchecked((ulong)-42L)) // as_int
            .Fixed32(15, 7);                    // a field this reader does not know
        var histogram = new Proto()
            .Fixed64(4, 3).Fixed64(5, BitConverter.DoubleToUInt64Bits(6.5))
            .Packed(6, [1UL, 2UL], fixed64: true)
            .Packed(7, [BitConverter.DoubleToUInt64Bits(2.0)], fixed64: true);
        var metrics = new Proto()
            .Message(1, new Proto().String(1, "scope"))
            .Message(2, new Proto().String(1, "g").String(2, "a description").Message(5, new Proto().Message(1, point)))
            .Message(2, new Proto().String(1, "h").Message(9, new Proto().Message(1, histogram).Varint(2, 2)));
        var request = new Proto().Message(1, new Proto().Message(1, new Proto().Message(1, KeyValue("service.name", "svc"))).Message(2, metrics));

        var decoded = OtlpProtobufReader.Read(request.ToArray(), 100);
        var resource = Assert.Single(decoded.Resources);
        Assert.Equal(new KeyValuePair<string, string>("service.name", "svc"), Assert.Single(resource.Attributes));
        Assert.Equal(2, resource.Metrics.Count);
        var gauge = resource.Metrics[0];
        Assert.Equal(("g", "scope", OtlpMetricType.Gauge), (gauge.Name, gauge.Scope, gauge.Type));
        var p = Assert.Single(gauge.Points);
        Assert.Equal(-42, p.Value);
        Assert.Equal(1_700_000_010_000_000_000UL, p.TimeNs);
        Assert.Equal("/a", Assert.Single(p.Attributes!).Value);
        var h = resource.Metrics[1];
        Assert.Equal(OtlpTemporality.Cumulative, h.Temporality);
        Assert.Equal(3UL, h.Points[0].Count);
        Assert.Equal([1UL, 2UL], h.Points[0].BucketCounts!);
        Assert.Equal([2.0], h.Points[0].Bounds!);
        Assert.Equal(2, decoded.DataPoints);

        var truncated = request.ToArray()[..^3];
        Assert.Throws<OtlpFormatException>(() => OtlpProtobufReader.Read(truncated, 100));
        var tooMany = Assert.Throws<OtlpFormatException>(() => OtlpProtobufReader.Read(request.ToArray(), 1));
        Assert.True(tooMany.TooLarge);
    }

    [Fact]
    public void CumulativeHistogramsBecomeIntervalCountsSumsAndQuantilesAndUndoRestoresTheReference()
    {
        var registry = new OtlpSeriesRegistry(Options.Create(new OtlpOptions()), TimeProvider.System);
        var translator = new OtlpTranslator(new OtlpOptions(), registry);
        var start = registry.StartedNs + 1;
        OtlpRequest Request(ulong count, double sum, ulong[] buckets, ulong time)
        {
            var metric = new OtlpMetric { Name = "work.duration", Type = OtlpMetricType.Histogram, Temporality = OtlpTemporality.Cumulative };
            metric.Points.Add(new OtlpPoint { StartNs = start, TimeNs = time, Count = count, Sum = sum, HasSum = true, Bounds = [10, 20], BucketCounts = buckets });
            var resource = new OtlpResource { Attributes = [new("aiops.entity.kind", "model"), new("aiops.entity.id", "m1")] };
            resource.Metrics.Add(metric);
            var request = new OtlpRequest();
            request.Resources.Add(resource);
            return request;
        }
        Dictionary<string, double> Values(OtlpTranslation t) => t.Batch.Points.ToArray().ToDictionary(p => p.Metric, p => p.Value);

        // The series began after the registry: its first point counts whole.
        var first = translator.Translate(Request(4, 60, [0, 4, 0], start + 1_000_000_000));
        Assert.Equal(4, Values(first)["work.duration.count"]);
        Assert.Equal(15, Values(first)["work.duration.p50"]);

        // The next point: only the interval (2 more values, both in (20, +inf) which nothing closes: no p95).
        var second = translator.Translate(Request(6, 110, [0, 4, 2], start + 2_000_000_000));
        var values = Values(second);
        Assert.Equal(2, values["work.duration.count"]);
        Assert.Equal(50, values["work.duration.sum"]);
        Assert.False(values.ContainsKey("work.duration.p50"));

        // Not kept after all (e.g. 503): undo, and the same point gives the same interval again.
        translator.Undo(second);
        Assert.Equal(2, Values(translator.Translate(Request(6, 110, [0, 4, 2], start + 2_000_000_000)))["work.duration.count"]);
        // A retry of an already taken point gives nothing.
        var retry = translator.Translate(Request(6, 110, [0, 4, 2], start + 2_000_000_000));
        Assert.Equal(0, retry.Batch.Accepted);
        Assert.Equal(1, retry.ReferenceOnly);
    }

    [Fact]
    public void HostileBodiesAreFormatErrorsNotCrashes()
    {
        // AnyValue kvlists nested far deeper than the reader allows (each level a KeyValue holding a kvlist).
        var value = new Proto().String(1, "leaf");
        for (var i = 0; i < 50; i++) value = new Proto().Message(6, new Proto().Message(1, new Proto().String(1, "k").Message(2, value)));
        var request = new Proto().Message(1, new Proto().Message(1, new Proto().Message(1, new Proto().String(1, "deep").Message(2, value))));
        Assert.Throws<OtlpFormatException>(() => OtlpProtobufReader.Read(request.ToArray(), 100));

        // A lone surrogate escape, and an exponential scale beyond int.
        Assert.Throws<OtlpFormatException>(() => OtlpJsonReader.Read(Encoding.UTF8.GetBytes("{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"\\ud800\",\"value\":{\"stringValue\":\"x\"}}]}}]}"), 100));
        Assert.Throws<OtlpFormatException>(() => OtlpJsonReader.Read(Encoding.UTF8.GetBytes("{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"e\",\"exponentialHistogram\":{\"dataPoints\":[{\"scale\":\"99999999999\"}]}}]}]}]}"), 100));
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void ThePerMetricSeriesBoundFreesASlotOnceASeriesStaysIdlePastTheTimeout()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var options = new OtlpOptions { MaxSeriesPerMetric = 1, SeriesIdleTimeout = TimeSpan.FromMinutes(5) };
        var translator = new OtlpTranslator(options, new OtlpSeriesRegistry(Options.Create(options), clock));
        OtlpRequest Request(string user)
        {
            var metric = new OtlpMetric { Name = "logins", Type = OtlpMetricType.Gauge };
            metric.Points.Add(new OtlpPoint { Value = 1, HasValue = true, Attributes = [new("user", user)] });
            var resource = new OtlpResource { Attributes = [new("service.name", "svc")] };
            resource.Metrics.Add(metric);
            var request = new OtlpRequest();
            request.Resources.Add(resource);
            return request;
        }

        Assert.Equal(1, translator.Translate(Request("a")).Batch.Accepted);
        var dropped = translator.Translate(Request("b"));
        Assert.Equal((0, 1, 1), (dropped.Batch.Accepted, dropped.Rejected, dropped.CardinalityDrops));
        clock.Now += TimeSpan.FromMinutes(3);
        Assert.Equal(1, translator.Translate(Request("a")).Batch.Accepted); // seen again: not idle
        Assert.Equal(0, translator.Translate(Request("b")).Batch.Accepted);
        clock.Now += TimeSpan.FromMinutes(6);                               // "a" idle for 6 minutes: forgotten
        Assert.Equal(1, translator.Translate(Request("b")).Batch.Accepted);
    }

    private static Proto KeyValue(string key, string value) => new Proto().String(1, key).Message(2, new Proto().String(1, value));

    private sealed class Proto
    {
        private readonly MemoryStream _s = new();
        public byte[] ToArray() => _s.ToArray();
        public Proto Varint(int field, ulong v) { Raw((ulong)(field << 3)); Raw(v); return this; }
        public Proto Fixed64(int field, ulong v) { Raw((ulong)(field << 3 | 1)); Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); _s.Write(b); return this; }
        public Proto Fixed32(int field, uint v) { Raw((ulong)(field << 3 | 5)); Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); _s.Write(b); return this; }
        public Proto String(int field, string v) => Bytes(field, Encoding.UTF8.GetBytes(v));
        public Proto Message(int field, Proto m) => Bytes(field, m.ToArray());
        public Proto Packed(int field, ulong[] values, bool fixed64)
        {
            var inner = new Proto();
            var b = new byte[8];
            foreach (var v in values)
            {
                if (fixed64) { BinaryPrimitives.WriteUInt64LittleEndian(b, v); inner._s.Write(b); }
                else inner.Raw(v);
            }
            return Bytes(field, inner.ToArray());
        }
        private Proto Bytes(int field, byte[] b) { Raw((ulong)(field << 3 | 2)); Raw((ulong)b.Length); _s.Write(b); return this; }
        private void Raw(ulong v)
        {
            while (v >= 0x80) { _s.WriteByte((byte)(v | 0x80)); v >>= 7; }
            _s.WriteByte((byte)v);
        }
    }
}
