using System.Text;
using AiOps.Abstractions;
using AiOps.Grains.Entities;
using AiOps.Server.Ingestion;
using AiOps.Server.Ingestion.Durability;

namespace AiOps.UnitTests;

public sealed class IngestLogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"aiops-log-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static ParsedBatch Parse(string body) => TelemetryParser.Parse(Encoding.UTF8.GetBytes(body), DateTimeOffset.Parse("2026-11-30T12:00:00Z"));

    private static byte[] Record(params string[] bodies)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        IngestLogCodec.Encode(bodies.Select(Parse).ToList(), writer);
        return writer.WrittenSpan.ToArray();
    }

    [Fact]
    public void ARecordDecodesToTheRequestsTheParserProduced()
    {
        var bodies = new[]
        {
            """[{"entity":{"kind":"model","id":"m-1"},"metric":"predictions","value":3,"id":"e1","timestamp":"2026-11-30T11:00:00Z"},{"entity":{"kind":"pipeline","id":"p-1"},"metric":"rows.out","value":-2.5,"attributes":{"version":"v2","région":"eu"}},{"entity":{"kind":"model","id":"m-1"},"metric":"my.custom","value":1e15}]""",
            """{"entity":{"kind":"costcenter","id":"cc-1"},"metric":"cost","value":0.125,"timestamp":"2026-11-30T10:59:59.999Z"}""",
        };
        var decoded = IngestLogCodec.Decode(Record(bodies));

        Assert.Equal(2, decoded.Count);
        for (var i = 0; i < bodies.Length; i++)
        {
            var original = Parse(bodies[i]);
            Assert.Equal(original.Entities, decoded[i].Entities);
            Assert.Equal(original.EntityOf.ToArray(), decoded[i].EntityOf.ToArray());
            var (a, b) = (original.Points.ToArray(), decoded[i].Points.ToArray());
            Assert.Equal(a.Length, b.Length);
            for (var p = 0; p < a.Length; p++)
            {
                Assert.Equal((a[p].Metric, a[p].Value, a[p].TimestampMs, a[p].EventIdHash), (b[p].Metric, b[p].Value, b[p].TimestampMs, b[p].EventIdHash));
                Assert.Equal(a[p].Attributes ?? [], b[p].Attributes ?? []);
            }
        }
        // Vocabulary names come back as the vocabulary's own strings (the grains compare them by reference first).
        Assert.Same(MetricVocabulary.Predictions, decoded[0].Points[0].Metric);
    }

    [Fact]
    public void SegmentFilesKeepEveryRecordAcrossAReopenInOrder()
    {
        var record = Record("""{"entity":{"kind":"model","id":"m"},"metric":"predictions","value":1}""");
        using (var log = new FileIngestLog(_dir))
        {
            Assert.Equal(0, log.LastPosition());
            for (var p = 101; p <= 105; p++) log.Append(p, record, record.Length);
        }
        using var again = new FileIngestLog(_dir);
        Assert.Equal(105, again.LastPosition());
        Assert.Equal([103L, 104, 105], again.ReadAfter(102).Select(r => r.Position));
        Assert.All(again.ReadAfter(0), r => Assert.Equal(record, r.Payload));
    }

    [Theory]
    [InlineData("cut")]
    [InlineData("flip")]
    [InlineData("garbage")]
    public void ATornTailIsCutOffAtOpenAndTheRecordsBeforeItStay(string damage)
    {
        var record = Record("""{"entity":{"kind":"model","id":"m"},"metric":"predictions","value":1}""");
        using (var log = new FileIngestLog(_dir))
        {
            for (var p = 1; p <= 3; p++) log.Append(p, record, record.Length);
        }
        var segment = Directory.GetFiles(_dir, "*.seg").Single();
        var bytes = File.ReadAllBytes(segment);
        switch (damage)
        {
            case "cut": File.WriteAllBytes(segment, bytes[..^5]); break; // the last record half written
            case "flip": bytes[^1] ^= 0xFF; File.WriteAllBytes(segment, bytes); break; // its payload damaged: CRC fails
            default: File.WriteAllBytes(segment, [.. bytes, 1, 2, 3, 4, 5, 6, 7]); break; // junk after the last record
        }

        using var again = new FileIngestLog(_dir);
        var expected = damage == "garbage" ? new long[] { 1, 2, 3 } : [1, 2];
        Assert.Equal(expected, again.ReadAfter(0).Select(r => r.Position));
        again.Append(4, record, record.Length); // appends after the valid prefix
        Assert.Equal([.. expected, 4], again.ReadAfter(0).Select(r => r.Position));
    }

    [Fact]
    public void TrimDeletesOnlyWholeSegmentsBehindThePosition()
    {
        var record = Record("""{"entity":{"kind":"model","id":"m"},"metric":"predictions","value":1}""");
        var log = new FileIngestLog(_dir, segmentBytes: 3 * (24 + record.Length) - 1);
        for (var p = 1; p <= 9; p++) log.Append(p, record, record.Length); // segments of 3 records: 1-3, 4-6, 7-9
        Assert.Equal(3, Directory.GetFiles(_dir, "*.seg").Length);

        log.Trim(5); // the segment 4-6 still holds 6: it stays, and reads skip what is trimmed
        Assert.Equal(2, Directory.GetFiles(_dir, "*.seg").Length);
        Assert.Equal([6L, 7, 8, 9], log.ReadAfter(0).Select(r => r.Position));
        log.Trim(9); // never the segment being written
        Assert.Single(Directory.GetFiles(_dir, "*.seg"));
        Assert.Empty(log.ReadAfter(0));
        Assert.Equal(9, log.LastPosition());
        log.Dispose();

        // The trim survives a reopen: nothing is replayed.
        using var again = new FileIngestLog(_dir, segmentBytes: 3 * (24 + record.Length) - 1);
        Assert.Empty(again.ReadAfter(0));
        Assert.Equal(9, again.LastPosition());
    }

    [Fact]
    public async Task ReadsOnAnotherThreadSeeWholeRecordsInOrderWhileTheWriterAppendsRollsAndTrims()
    {
        // Re-deliveries read the log while its writer thread appends, starts segments and deletes trimmed ones.
        var record = Record("""{"entity":{"kind":"model","id":"m"},"metric":"predictions","value":1}""");
        using var log = new FileIngestLog(_dir, segmentBytes: 4 * (24 + record.Length));
        long written = 0, trimmed = 0;
        var writer = Task.Run(() =>
        {
            for (var p = 1L; p <= 1000; p++)
            {
                log.Append(p, record, record.Length);
                Volatile.Write(ref written, p);
                if (p % 7 == 0 && p > 20)
                {
                    Volatile.Write(ref trimmed, p - 20); // before the trim: the reader's bound is never behind the log's
                    log.Trim(p - 20);
                }
            }
        });
        var reads = 0;
        while (!writer.IsCompleted || reads == 0)
        {
            // Every record after what is trimmed (what a re-delivery asks for) is read, whole and in order. Records the
            // writer trims during the read may be left out (saved state covers them), none after the trim point.
            var after = Volatile.Read(ref trimmed);
            var upTo = Volatile.Read(ref written);
            var positions = new List<long>();
            foreach (var (position, payload) in log.ReadAfter(after))
            {
                Assert.True(position > (positions.Count == 0 ? after : positions[^1]));
                Assert.Equal(record, payload);
                positions.Add(position);
            }
            var trimmedNow = Volatile.Read(ref trimmed);
            for (var p = Math.Max(after, trimmedNow) + 1; p <= upTo; p++)
                Assert.True(positions.BinarySearch(p) >= 0, $"record {p} (written before the read, trimmed through {trimmedNow}) was not read");
            reads++;
        }
        await writer;
        Assert.True(reads > 1);
    }

    [Fact]
    public void AnEntityIsPendingFromItsFirstUnsavedPositionUntilASaveCoversTheLastPublished()
    {
        var checkpoints = new IngestCheckpoints();
        Assert.Null(checkpoints.LowestUnsaved());
        checkpoints.Published(EntityKind.Model, "a", 10, 12);
        checkpoints.Published(EntityKind.Model, "b", 11, 11);
        checkpoints.Published(EntityKind.Model, "a", 13, 15);
        Assert.Equal(10, checkpoints.LowestUnsaved());

        checkpoints.Saved(EntityKind.Model, "a", 12); // saved through 12; 13-15 still only in memory
        Assert.Equal(11, checkpoints.LowestUnsaved());
        checkpoints.Saved(EntityKind.Model, "b", 11);
        Assert.Equal(13, checkpoints.LowestUnsaved());
        checkpoints.Saved(EntityKind.Model, "a", 15);
        Assert.Null(checkpoints.LowestUnsaved());
        Assert.Equal(0, checkpoints.PendingEntities);

        checkpoints.Saved(EntityKind.Pipeline, "never-published", 99); // nothing to clear, nothing breaks
        Assert.Null(checkpoints.LowestUnsaved());
    }
}
