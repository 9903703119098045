using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using AiOps.Abstractions;

namespace AiOps.Server.Ingestion.Durability;

/// <summary>
/// Binary form of one ingest-log record: the requests of one group commit, each as its entity table, metric table
/// and points in arrival order (entity index, metric index, value, timestamp delta, id hash, attributes). Written
/// straight from the parser's flat batches: no per-entity regrouping on the write path. Decoding gives back batches
/// equal to what the parser produced, so a replay goes through the same publisher as live traffic.
/// </summary>
public static class IngestLogCodec
{
    private const byte Version = 1;
    private const byte HasId = 1;
    private const byte HasAttributes = 2;

    public static void Encode(IReadOnlyList<ParsedBatch> requests, ArrayBufferWriter<byte> output)
    {
        var w = new Writer(output);
        w.Byte(Version);
        w.Varint((ulong)requests.Count);
        var metrics = new Dictionary<string, int>(StringComparer.Ordinal);
        var metricOrder = new List<string>();
        foreach (var request in requests)
        {
            var entities = request.Entities;
            w.Varint((ulong)entities.Count);
            foreach (var e in entities)
            {
                w.Byte((byte)e.Kind);
                w.String(e.Id);
            }
            var points = request.Points;
            metrics.Clear();
            metricOrder.Clear();
            foreach (ref readonly var p in points)
            {
                if (!metrics.ContainsKey(p.Metric))
                {
                    metrics[p.Metric] = metricOrder.Count;
                    metricOrder.Add(p.Metric);
                }
            }
            w.Varint((ulong)metricOrder.Count);
            foreach (var m in metricOrder) w.String(m);
            w.Varint((ulong)points.Length);
            var entityOf = request.EntityOf;
            long previous = 0;
            string? lastMetric = null;
            var lastIndex = 0;
            for (var i = 0; i < points.Length; i++)
            {
                ref readonly var p = ref points[i];
                byte flags = 0;
                if (p.EventIdHash != 0) flags |= HasId;
                if (p.Attributes is { Length: > 0 }) flags |= HasAttributes;
                w.Byte(flags);
                w.Varint((ulong)entityOf[i]);
                if (!ReferenceEquals(p.Metric, lastMetric))
                {
                    lastIndex = metrics[p.Metric];
                    lastMetric = p.Metric;
                }
                w.Varint((ulong)lastIndex);
                w.Double(p.Value);
                var delta = p.TimestampMs - previous;
                w.Varint((ulong)((delta << 1) ^ (delta >> 63)));
                previous = p.TimestampMs;
                if (p.EventIdHash != 0) w.UInt64(p.EventIdHash);
                if (p.Attributes is { Length: > 0 } attrs)
                {
                    w.Varint((ulong)attrs.Length);
                    foreach (var kv in attrs) { w.String(kv.Key); w.String(kv.Value); }
                }
            }
        }
    }

    /// <summary>The record's requests as rented batches (the caller hands them on or releases them).</summary>
    public static List<ParsedBatch> Decode(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        if (r.Byte() != Version) throw new InvalidDataException("Unknown ingest-log record format.");
        var count = (int)r.Varint();
        var result = new List<ParsedBatch>(count);
        for (var q = 0; q < count; q++)
        {
            var batch = ParsedBatch.Rent();
            var entities = new EntityKey[(int)r.Varint()];
            for (var e = 0; e < entities.Length; e++)
            {
                var kind = (EntityKind)r.Byte();
                entities[e] = new EntityKey(kind, r.String());
            }
            var metrics = new string[(int)r.Varint()];
            for (var m = 0; m < metrics.Length; m++)
            {
                var name = r.String();
                metrics[m] = MetricVocabulary.TryGetName(Encoding.UTF8.GetBytes(name), out var known) ? known : name;
            }
            var points = (int)r.Varint();
            long previous = 0;
            for (var i = 0; i < points; i++)
            {
                var flags = r.Byte();
                var entity = entities[(int)r.Varint()];
                var metric = metrics[(int)r.Varint()];
                var value = r.Double();
                var zigzag = r.Varint();
                previous += (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
                var id = (flags & HasId) != 0 ? r.UInt64() : 0;
                KeyValuePair<string, string>[]? attributes = null;
                if ((flags & HasAttributes) != 0)
                {
                    attributes = new KeyValuePair<string, string>[(int)r.Varint()];
                    for (var a = 0; a < attributes.Length; a++)
                    {
                        var key = r.String();
                        attributes[a] = new(key, r.String());
                    }
                }
                batch.Add(entity, new TelemetryPoint(metric, value, previous, id, attributes));
            }
            batch.Total = batch.Accepted;
            result.Add(batch);
        }
        return result;
    }

    private readonly ref struct Writer(ArrayBufferWriter<byte> output)
    {
        public void Byte(byte b)
        {
            output.GetSpan(1)[0] = b;
            output.Advance(1);
        }

        public void Double(double d)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(output.GetSpan(8), d);
            output.Advance(8);
        }

        public void UInt64(ulong v)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), v);
            output.Advance(8);
        }

        public void Varint(ulong v)
        {
            var span = output.GetSpan(10);
            var n = 0;
            while (v >= 0x80)
            {
                span[n++] = (byte)(v | 0x80);
                v >>= 7;
            }
            span[n++] = (byte)v;
            output.Advance(n);
        }

        public void String(string s)
        {
            var max = Encoding.UTF8.GetMaxByteCount(s.Length);
            var span = output.GetSpan(max + 5);
            var n = Encoding.UTF8.GetBytes(s, span[5..]);
            // length prefix as a varint in front of the bytes (at most 5 bytes; shift the text down when shorter)
            var v = (uint)n;
            var head = 0;
            Span<byte> prefix = stackalloc byte[5];
            while (v >= 0x80) { prefix[head++] = (byte)(v | 0x80); v >>= 7; }
            prefix[head++] = (byte)v;
            span.Slice(5, n).CopyTo(span[head..]);
            prefix[..head].CopyTo(span);
            output.Advance(head + n);
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _offset;

        public byte Byte() => _data[_offset++];

        public double Double()
        {
            var d = BinaryPrimitives.ReadDoubleLittleEndian(_data[_offset..]);
            _offset += 8;
            return d;
        }

        public ulong UInt64()
        {
            var v = BinaryPrimitives.ReadUInt64LittleEndian(_data[_offset..]);
            _offset += 8;
            return v;
        }

        public ulong Varint()
        {
            ulong result = 0;
            var shift = 0;
            while (true)
            {
                var b = _data[_offset++];
                result |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return result;
                shift += 7;
            }
        }

        public string String()
        {
            var n = (int)Varint();
            var s = Encoding.UTF8.GetString(_data.Slice(_offset, n));
            _offset += n;
            return s;
        }
    }
}
