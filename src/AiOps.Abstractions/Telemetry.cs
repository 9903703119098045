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
    [property: Id(4)] long PublishedAtMs = 0,
    [property: Id(5)] long[]? LogSegments = null,
    [property: Id(6)] int LogPartition = 0,
    [property: Id(7)] long PreviousPosition = 0)
{
    // LogSegments: where the points came from in the ingest log (partition LogPartition), as (position, count) pairs
    // in point order; null when the points were not logged. PreviousPosition: the last position of this partition
    // delivered to the entity before this batch (0: unknown); an entity whose state is behind it lost points (its
    // silo died before it saved them) and asks for them again.

    private const byte Version = 1;
    private const byte HasId = 1;
    private const byte HasAttributes = 2;

    public static TelemetryBatch Create(EntityKind kind, IReadOnlyList<TelemetryPoint> points, long publishedAtMs = 0) => points switch
    {
        TelemetryPoint[] array => Create(kind, array.AsSpan(), publishedAtMs),
        List<TelemetryPoint> list => Create(kind, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list), publishedAtMs),
        _ => Create(kind, points.ToArray().AsSpan(), publishedAtMs),
    };

    public static TelemetryBatch Create(EntityKind kind, ReadOnlySpan<TelemetryPoint> points, long publishedAtMs = 0, long[]? logSegments = null) =>
        new(Guid.CreateVersion7(), kind, Encode(points), points.Length, publishedAtMs, logSegments);

    public static byte[] Encode(IReadOnlyList<TelemetryPoint> points) => Encode(points.ToArray().AsSpan());

    /// <summary>
    /// Encodes into one array of exactly the right size: a first pass collects the distinct metric names
    /// (usually one or two per entity batch) and measures, the second writes. The only other allocation is
    /// the small name table.
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<TelemetryPoint> points)
    {
        var metrics = new MetricTable(8);
        var size = 1; // version
        long previous = 0;
        foreach (ref readonly var p in points)
        {
            var idx = metrics.IndexOf(p.Metric);
            size += 1 + VarintSize((ulong)idx) + 8;
            var delta = p.TimestampMs - previous;
            size += VarintSize((ulong)((delta << 1) ^ (delta >> 63)));
            previous = p.TimestampMs;
            if (p.EventIdHash != 0) size += 8;
            if (p.Attributes is { Length: > 0 } attrs)
            {
                size += VarintSize((ulong)attrs.Length);
                foreach (var kv in attrs) size += StringSize(kv.Key) + StringSize(kv.Value);
            }
        }
        size += VarintSize((ulong)metrics.Count);
        for (var m = 0; m < metrics.Count; m++) size += StringSize(metrics[m]);

        var buffer = new byte[size];
        var w = new SpanWriter(buffer);
        w.WriteByte(Version);
        w.WriteVarint((ulong)metrics.Count);
        for (var m = 0; m < metrics.Count; m++) w.WriteString(metrics[m]);
        previous = 0;
        foreach (ref readonly var p in points)
        {
            byte flags = 0;
            if (p.EventIdHash != 0) flags |= HasId;
            if (p.Attributes is { Length: > 0 }) flags |= HasAttributes;
            w.WriteByte(flags);
            w.WriteVarint((ulong)metrics.IndexOf(p.Metric));
            w.WriteDouble(p.Value);
            var delta = p.TimestampMs - previous;
            w.WriteVarint((ulong)((delta << 1) ^ (delta >> 63)));
            previous = p.TimestampMs;
            if (p.EventIdHash != 0) w.WriteUInt64(p.EventIdHash);
            if (p.Attributes is { Length: > 0 } attrs)
            {
                w.WriteVarint((ulong)attrs.Length);
                foreach (var kv in attrs) { w.WriteString(kv.Key); w.WriteString(kv.Value); }
            }
        }
        if (w.Position != size) throw new InvalidOperationException($"Telemetry batch encoding wrote {w.Position} of {size} bytes.");
        return buffer;
    }

    private static int VarintSize(ulong v)
    {
        var n = 1;
        while (v >= 0x80) { v >>= 7; n++; }
        return n;
    }

    private static int StringSize(string s)
    {
        var n = Encoding.UTF8.GetByteCount(s);
        return VarintSize((ulong)n) + n;
    }

    /// <summary>Distinct metric names in first-seen order; lookups compare references first (names come from the parser's interned vocabulary).</summary>
    private struct MetricTable(int capacity)
    {
        private string[] _names = new string[capacity];
        public int Count { get; private set; }
        public readonly string this[int i] => _names[i];

        public int IndexOf(string name)
        {
            for (var i = 0; i < Count; i++)
                if (ReferenceEquals(_names[i], name)) return i;
            for (var i = 0; i < Count; i++)
                if (string.Equals(_names[i], name, StringComparison.Ordinal)) return i;
            if (Count == _names.Length) Array.Resize(ref _names, _names.Length * 2);
            _names[Count] = name;
            return Count++;
        }
    }

    private ref struct SpanWriter(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        public int Position { get; private set; }

        public void WriteByte(byte b) => _buffer[Position++] = b;

        public void WriteDouble(double d)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(_buffer[Position..], d);
            Position += 8;
        }

        public void WriteUInt64(ulong v)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer[Position..], v);
            Position += 8;
        }

        public void WriteVarint(ulong v)
        {
            while (v >= 0x80)
            {
                _buffer[Position++] = (byte)(v | 0x80);
                v >>= 7;
            }
            _buffer[Position++] = (byte)v;
        }

        public void WriteString(string s)
        {
            var n = Encoding.UTF8.GetByteCount(s);
            WriteVarint((ulong)n);
            Position += Encoding.UTF8.GetBytes(s, _buffer.Slice(Position, n));
        }
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
}
