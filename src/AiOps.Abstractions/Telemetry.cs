using System.Buffers.Binary;
using System.Text;

namespace AiOps.Abstractions;

/// <summary>
/// One validated telemetry point for one entity (the entity is the stream's key). The event id travels as
/// its 64-bit hash (0 = no id): ids are only ever compared, and hashing the bytes at parse time spares a
/// string per event.
/// </summary>
public readonly record struct TelemetryPoint(
    string Metric,
    double Value,
    long TimestampMs,
    ulong EventIdHash,
    KeyValuePair<string, string>[]? Attributes)
{
    public string? Attribute(string key)
    {
        if (Attributes is null) return null;
        foreach (var kv in Attributes)
        {
            if (kv.Key == key) return kv.Value;
        }
        return null;
    }

    /// <summary>64-bit FNV-1a of an id. Ids are ASCII, so hashing chars and UTF-8 bytes agree.</summary>
    public static ulong HashId(ReadOnlySpan<char> id)
    {
        var h = 14695981039346656037UL;
        foreach (var c in id)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h == 0 ? 1 : h;
    }

    /// <inheritdoc cref="HashId(ReadOnlySpan{char})"/>
    public static ulong HashId(ReadOnlySpan<byte> asciiId)
    {
        var h = 14695981039346656037UL;
        foreach (var b in asciiId)
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return h == 0 ? 1 : h;
    }
}

/// <summary>
/// The unit published to an entity's stream: the entity's points in one compact binary payload (metric
/// names once, then per point a metric index, value, timestamp delta, id hash and rare attributes).
/// Streams serialize a byte array with a single copy; a list of point objects would cost per field.
/// <see cref="BatchId"/> is unique per publish so that a redelivered batch is applied once.
/// </summary>
[GenerateSerializer, Immutable, Alias("aiops.TelemetryBatch")]
public sealed record TelemetryBatch(
    [property: Id(0)] Guid BatchId,
    [property: Id(1)] EntityKind Kind,
    [property: Id(2)] byte[] Payload,
    [property: Id(3)] int Count,
    [property: Id(4)] long PublishedAtMs = 0)
{
    private const byte Version = 1;
    private const byte HasId = 1;
    private const byte HasAttributes = 2;

    public static TelemetryBatch Create(EntityKind kind, IReadOnlyList<TelemetryPoint> points, long publishedAtMs = 0) =>
        new(Guid.CreateVersion7(), kind, Encode(points), points.Count, publishedAtMs);

    public static byte[] Encode(IReadOnlyList<TelemetryPoint> points)
    {
        var metrics = new List<string>(2);
        var buffer = new ArrayBufferWriterLite(32 + points.Count * 20);
        buffer.WriteByte(Version);
        // Metric table first: collect distinct names (usually one or two per entity batch).
        var indexes = new int[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            var m = points[i].Metric;
            var idx = metrics.IndexOf(m);
            if (idx < 0) { idx = metrics.Count; metrics.Add(m); }
            indexes[i] = idx;
        }
        buffer.WriteVarint((ulong)metrics.Count);
        foreach (var m in metrics) buffer.WriteString(m);
        long previous = 0;
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            byte flags = 0;
            if (p.EventIdHash != 0) flags |= HasId;
            if (p.Attributes is { Length: > 0 }) flags |= HasAttributes;
            buffer.WriteByte(flags);
            buffer.WriteVarint((ulong)indexes[i]);
            buffer.WriteDouble(p.Value);
            var delta = p.TimestampMs - previous;
            buffer.WriteVarint((ulong)((delta << 1) ^ (delta >> 63)));
            previous = p.TimestampMs;
            if (p.EventIdHash != 0) buffer.WriteUInt64(p.EventIdHash);
            if (p.Attributes is { Length: > 0 } attrs)
            {
                buffer.WriteVarint((ulong)attrs.Length);
                foreach (var kv in attrs) { buffer.WriteString(kv.Key); buffer.WriteString(kv.Value); }
            }
        }
        return buffer.ToArray();
    }

    /// <summary>The points, in the order they were published.</summary>
    public IEnumerable<TelemetryPoint> Points()
    {
        var offset = 0;
        var payload = Payload;
        if (payload.Length == 0) yield break;
        if (payload[offset++] != Version) throw new InvalidDataException($"Unknown telemetry batch format {payload[0]}.");
        var metricCount = (int)ReadVarint(payload, ref offset);
        var metrics = new string[metricCount];
        for (var i = 0; i < metricCount; i++) metrics[i] = ReadString(payload, ref offset);
        long previous = 0;
        for (var n = 0; n < Count; n++)
        {
            var flags = payload[offset++];
            var metric = metrics[(int)ReadVarint(payload, ref offset)];
            var value = BinaryPrimitives.ReadDoubleLittleEndian(payload.AsSpan(offset));
            offset += 8;
            var zigzag = ReadVarint(payload, ref offset);
            previous += (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
            ulong id = 0;
            if ((flags & HasId) != 0)
            {
                id = BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(offset));
                offset += 8;
            }
            KeyValuePair<string, string>[]? attributes = null;
            if ((flags & HasAttributes) != 0)
            {
                attributes = new KeyValuePair<string, string>[(int)ReadVarint(payload, ref offset)];
                for (var a = 0; a < attributes.Length; a++)
                {
                    var key = ReadString(payload, ref offset);
                    attributes[a] = new(key, ReadString(payload, ref offset));
                }
            }
            yield return new TelemetryPoint(metric, value, previous, id, attributes);
        }
    }

    private static ulong ReadVarint(byte[] data, ref int offset)
    {
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            var b = data[offset++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return result;
            shift += 7;
        }
    }

    private static string ReadString(byte[] data, ref int offset)
    {
        var length = (int)ReadVarint(data, ref offset);
        var s = Encoding.UTF8.GetString(data, offset, length);
        offset += length;
        return s;
    }

    /// <summary>A growable byte buffer with the few writes the encoding needs.</summary>
    private sealed class ArrayBufferWriterLite(int capacity)
    {
        private byte[] _buffer = new byte[capacity];
        private int _length;

        private Span<byte> Reserve(int n)
        {
            if (_length + n > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + n));
            var span = _buffer.AsSpan(_length, n);
            _length += n;
            return span;
        }

        public void WriteByte(byte b) => Reserve(1)[0] = b;
        public void WriteDouble(double d) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), d);
        public void WriteUInt64(ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), v);

        public void WriteVarint(ulong v)
        {
            while (v >= 0x80)
            {
                WriteByte((byte)(v | 0x80));
                v >>= 7;
            }
            WriteByte((byte)v);
        }

        public void WriteString(string s)
        {
            var n = Encoding.UTF8.GetByteCount(s);
            WriteVarint((ulong)n);
            Encoding.UTF8.GetBytes(s, Reserve(n));
        }

        public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();
    }
}
