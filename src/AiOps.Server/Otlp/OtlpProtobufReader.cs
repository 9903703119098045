using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using AiOps.Server.Ingestion;

namespace AiOps.Server.Otlp;

/// <summary>
/// Decodes an OTLP ExportMetricsServiceRequest from the protobuf wire format by hand: varints, fixed64 and
/// length-delimited fields over the message field numbers of opentelemetry/proto/metrics/v1 (facts of the format),
/// skipping every field it does not use (exemplars, descriptions, schema URLs, fields added later).
/// Why by hand: OpenTelemetry.Proto is not served here, generated Google.Protobuf classes would allocate an object
/// per data point, attribute and AnyValue, and the reader needs only a few dozen lines per message. Strings that
/// repeat from request to request (metric names, attribute keys and values) come from a bounded cache of recent
/// strings instead of a new string each time.
/// </summary>
internal static class OtlpProtobufReader
{
    private const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;
    private const int MaxAnyValueDepth = 8;

    private static readonly IdCache Strings = new();

    public static OtlpRequest Read(ReadOnlySpan<byte> body, int maxDataPoints)
    {
        var request = new OtlpRequest();
        var r = new WireReader(body);
        var index = 0;
        while (r.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == LengthDelimited)
            {
                var span = r.ReadBytes();
                try { ReadResourceMetrics(span, request, maxDataPoints); }
                catch (OtlpFormatException ex) when (!ex.TooLarge) { throw Prefixed($"resource_metrics[{index}]", ex); }
                index++;
            }
            else r.Skip(wire);
        }
        return request;
    }

    private static OtlpFormatException Prefixed(string prefix, OtlpFormatException ex) =>
        new(ex.Field.Length == 0 ? prefix : $"{prefix}.{ex.Field}", ex.Message);

    private static void ReadResourceMetrics(ReadOnlySpan<byte> span, OtlpRequest request, int maxDataPoints)
    {
        var resource = new OtlpResource();
        request.Resources.Add(resource);
        var r = new WireReader(span);
        var scopeIndex = 0;
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == LengthDelimited: // Resource
                {
                    var rr = new WireReader(r.ReadBytes());
                    var attributes = new List<KeyValuePair<string, string>>();
                    while (rr.TryReadTag(out var f, out var w))
                    {
                        if (f == 1 && w == LengthDelimited) attributes.Add(ReadKeyValue(rr.ReadBytes(), "resource.attributes"));
                        else rr.Skip(w);
                    }
                    resource.Attributes = attributes.ToArray();
                    break;
                }
                case 2 when wire == LengthDelimited: // ScopeMetrics
                {
                    var span2 = r.ReadBytes();
                    try { ReadScopeMetrics(span2, resource, request, maxDataPoints); }
                    catch (OtlpFormatException ex) when (!ex.TooLarge) { throw Prefixed($"scope_metrics[{scopeIndex}]", ex); }
                    scopeIndex++;
                    break;
                }
                default:
                    r.Skip(wire);
                    break;
            }
        }
    }

    private static void ReadScopeMetrics(ReadOnlySpan<byte> span, OtlpResource resource, OtlpRequest request, int maxDataPoints)
    {
        // The scope may come after the metrics on the wire: find it first.
        var scope = "";
        var r = new WireReader(span);
        while (r.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == LengthDelimited)
            {
                var sr = new WireReader(r.ReadBytes());
                while (sr.TryReadTag(out var f, out var w))
                {
                    if (f == 1 && w == LengthDelimited) scope = ReadString(sr.ReadBytes(), "scope.name");
                    else sr.Skip(w);
                }
            }
            else r.Skip(wire);
        }
        r = new WireReader(span);
        var metricIndex = 0;
        while (r.TryReadTag(out var field, out var wire))
        {
            if (field == 2 && wire == LengthDelimited)
            {
                var metricSpan = r.ReadBytes();
                try
                {
                    var metric = ReadMetric(metricSpan, request, maxDataPoints);
                    metric.Scope = scope;
                    resource.Metrics.Add(metric);
                }
                catch (OtlpFormatException ex) when (!ex.TooLarge) { throw Prefixed($"metrics[{metricIndex}]", ex); }
                metricIndex++;
            }
            else r.Skip(wire);
        }
    }

    private static OtlpMetric ReadMetric(ReadOnlySpan<byte> span, OtlpRequest request, int maxDataPoints)
    {
        var metric = new OtlpMetric();
        var r = new WireReader(span);
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == LengthDelimited: metric.Name = ReadString(r.ReadBytes(), "name"); break;
                case 3 when wire == LengthDelimited: metric.Unit = ReadString(r.ReadBytes(), "unit"); break;
                case 5 when wire == LengthDelimited: SetType(metric, OtlpMetricType.Gauge, "gauge"); ReadData(r.ReadBytes(), metric, request, maxDataPoints, "gauge"); break;
                case 7 when wire == LengthDelimited: SetType(metric, OtlpMetricType.Sum, "sum"); ReadData(r.ReadBytes(), metric, request, maxDataPoints, "sum"); break;
                case 9 when wire == LengthDelimited: SetType(metric, OtlpMetricType.Histogram, "histogram"); ReadData(r.ReadBytes(), metric, request, maxDataPoints, "histogram"); break;
                case 10 when wire == LengthDelimited: SetType(metric, OtlpMetricType.ExponentialHistogram, "exponential_histogram"); ReadData(r.ReadBytes(), metric, request, maxDataPoints, "exponential_histogram"); break;
                case 11 when wire == LengthDelimited: SetType(metric, OtlpMetricType.Summary, "summary"); ReadData(r.ReadBytes(), metric, request, maxDataPoints, "summary"); break;
                default: r.Skip(wire); break;
            }
        }
        return metric;
    }

    private static void SetType(OtlpMetric metric, OtlpMetricType type, string field)
    {
        if (metric.Type != OtlpMetricType.None && metric.Type != type)
            throw new OtlpFormatException(field, "A metric holds more than one kind of data (gauge, sum, histogram, ...).");
        metric.Type = type;
    }

    private static void ReadData(ReadOnlySpan<byte> span, OtlpMetric metric, OtlpRequest request, int maxDataPoints, string name)
    {
        var r = new WireReader(span);
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == LengthDelimited:
                {
                    if (++request.DataPoints > maxDataPoints)
                        throw new OtlpFormatException("data_points", $"A request may carry at most {maxDataPoints} data points; split the export batch.", tooLarge: true);
                    var pointSpan = r.ReadBytes();
                    try
                    {
                        metric.Points.Add(metric.Type switch
                        {
                            OtlpMetricType.Gauge or OtlpMetricType.Sum => ReadNumberPoint(pointSpan),
                            OtlpMetricType.Histogram => ReadHistogramPoint(pointSpan),
                            OtlpMetricType.ExponentialHistogram => ReadExponentialPoint(pointSpan),
                            _ => ReadSummaryPoint(pointSpan),
                        });
                    }
                    catch (OtlpFormatException ex) when (!ex.TooLarge) { throw Prefixed($"{name}.data_points[{metric.Points.Count}]", ex); }
                    break;
                }
                case 2 when wire == Varint && metric.Type != OtlpMetricType.Gauge && metric.Type != OtlpMetricType.Summary:
                    metric.Temporality = (OtlpTemporality)Math.Min(r.ReadVarint(), 3);
                    break;
                case 3 when wire == Varint && metric.Type == OtlpMetricType.Sum:
                    metric.Monotonic = r.ReadVarint() != 0;
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }
    }

    private static OtlpPoint ReadNumberPoint(ReadOnlySpan<byte> span)
    {
        var p = new OtlpPoint();
        var r = new WireReader(span);
        List<KeyValuePair<string, string>>? attributes = null;
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 7 when wire == LengthDelimited: (attributes ??= []).Add(ReadKeyValue(r.ReadBytes(), "attributes")); break;
                case 2 when wire == Fixed64: p.StartNs = r.ReadFixed64(); break;
                case 3 when wire == Fixed64: p.TimeNs = r.ReadFixed64(); break;
                case 4 when wire == Fixed64: p.Value = BitConverter.UInt64BitsToDouble(r.ReadFixed64()); p.HasValue = true; break;
                case 6 when wire == Fixed64: p.Value = (long)r.ReadFixed64(); p.HasValue = true; break;
                case 8 when wire == Varint: p.Flags = (uint)r.ReadVarint(); break;
                default: r.Skip(wire); break;
            }
        }
        p.Attributes = attributes?.ToArray();
        return p;
    }

    private static OtlpPoint ReadHistogramPoint(ReadOnlySpan<byte> span)
    {
        var p = new OtlpPoint();
        var r = new WireReader(span);
        List<KeyValuePair<string, string>>? attributes = null;
        List<ulong>? counts = null;
        List<double>? bounds = null;
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 9 when wire == LengthDelimited: (attributes ??= []).Add(ReadKeyValue(r.ReadBytes(), "attributes")); break;
                case 2 when wire == Fixed64: p.StartNs = r.ReadFixed64(); break;
                case 3 when wire == Fixed64: p.TimeNs = r.ReadFixed64(); break;
                case 4: p.Count = r.ReadUInt64(wire, "count"); break;
                case 5 when wire == Fixed64: p.Sum = r.ReadDouble(); p.HasSum = true; break;
                case 6: r.ReadRepeatedFixed64OrVarint(wire, counts ??= [], packedFixed: true, "bucket_counts"); break;
                case 7: r.ReadRepeatedDouble(wire, bounds ??= [], "explicit_bounds"); break;
                case 10 when wire == Varint: p.Flags = (uint)r.ReadVarint(); break;
                case 11 when wire == Fixed64: p.Min = r.ReadDouble(); p.HasMin = true; break;
                case 12 when wire == Fixed64: p.Max = r.ReadDouble(); p.HasMax = true; break;
                default: r.Skip(wire); break;
            }
        }
        p.Attributes = attributes?.ToArray();
        p.BucketCounts = counts?.ToArray();
        p.Bounds = bounds?.ToArray();
        return p;
    }

    private static OtlpPoint ReadExponentialPoint(ReadOnlySpan<byte> span)
    {
        var p = new OtlpPoint();
        var r = new WireReader(span);
        List<KeyValuePair<string, string>>? attributes = null;
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == LengthDelimited: (attributes ??= []).Add(ReadKeyValue(r.ReadBytes(), "attributes")); break;
                case 2 when wire == Fixed64: p.StartNs = r.ReadFixed64(); break;
                case 3 when wire == Fixed64: p.TimeNs = r.ReadFixed64(); break;
                case 4: p.Count = r.ReadUInt64(wire, "count"); break;
                case 5 when wire == Fixed64: p.Sum = r.ReadDouble(); p.HasSum = true; break;
                case 6 when wire == Varint: p.Scale = ZigZag32(r.ReadVarint()); break;
                case 7: p.ZeroCount = r.ReadUInt64(wire, "zero_count"); break;
                case 8 when wire == LengthDelimited: (p.PositiveOffset, p.Positive) = ReadBuckets(r.ReadBytes()); break;
                case 9 when wire == LengthDelimited: (p.NegativeOffset, p.Negative) = ReadBuckets(r.ReadBytes()); break;
                case 10 when wire == Varint: p.Flags = (uint)r.ReadVarint(); break;
                case 12 when wire == Fixed64: p.Min = r.ReadDouble(); p.HasMin = true; break;
                case 13 when wire == Fixed64: p.Max = r.ReadDouble(); p.HasMax = true; break;
                case 14 when wire == Fixed64: p.ZeroThreshold = r.ReadDouble(); break;
                default: r.Skip(wire); break;
            }
        }
        p.Attributes = attributes?.ToArray();
        return p;
    }

    private static (int Offset, ulong[] Counts) ReadBuckets(ReadOnlySpan<byte> span)
    {
        var offset = 0;
        var counts = new List<ulong>();
        var r = new WireReader(span);
        while (r.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == Varint) offset = ZigZag32(r.ReadVarint());
            else if (field == 2) r.ReadRepeatedFixed64OrVarint(wire, counts, packedFixed: false, "bucket_counts");
            else r.Skip(wire);
        }
        return (offset, counts.ToArray());
    }

    private static OtlpPoint ReadSummaryPoint(ReadOnlySpan<byte> span)
    {
        var p = new OtlpPoint();
        var r = new WireReader(span);
        List<KeyValuePair<string, string>>? attributes = null;
        List<(double, double)>? quantiles = null;
        while (r.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 7 when wire == LengthDelimited: (attributes ??= []).Add(ReadKeyValue(r.ReadBytes(), "attributes")); break;
                case 2 when wire == Fixed64: p.StartNs = r.ReadFixed64(); break;
                case 3 when wire == Fixed64: p.TimeNs = r.ReadFixed64(); break;
                case 4: p.Count = r.ReadUInt64(wire, "count"); break;
                case 5 when wire == Fixed64: p.Sum = r.ReadDouble(); p.HasSum = true; break;
                case 6 when wire == LengthDelimited:
                {
                    var qr = new WireReader(r.ReadBytes());
                    double q = 0, v = 0;
                    while (qr.TryReadTag(out var f, out var w))
                    {
                        if (f == 1 && w == Fixed64) q = qr.ReadDouble();
                        else if (f == 2 && w == Fixed64) v = qr.ReadDouble();
                        else qr.Skip(w);
                    }
                    (quantiles ??= []).Add((q, v));
                    break;
                }
                case 8 when wire == Varint: p.Flags = (uint)r.ReadVarint(); break;
                default: r.Skip(wire); break;
            }
        }
        p.Attributes = attributes?.ToArray();
        p.Quantiles = quantiles?.ToArray();
        return p;
    }

    private static KeyValuePair<string, string> ReadKeyValue(ReadOnlySpan<byte> span, string field, int depth = 0)
    {
        string key = "", value = "";
        var r = new WireReader(span);
        while (r.TryReadTag(out var f, out var w))
        {
            if (f == 1 && w == LengthDelimited) key = ReadString(r.ReadBytes(), field + ".key");
            else if (f == 2 && w == LengthDelimited) value = ReadAnyValue(r.ReadBytes(), field + ".value", depth);
            else r.Skip(w);
        }
        return new(key, value);
    }

    /// <summary>An AnyValue as text: strings as they are, numbers invariant, arrays and maps as compact JSON.</summary>
    private static string ReadAnyValue(ReadOnlySpan<byte> span, string field, int depth)
    {
        if (depth > MaxAnyValueDepth) throw new OtlpFormatException(field, $"Attribute values nest deeper than {MaxAnyValueDepth} levels.");
        var r = new WireReader(span);
        var result = "";
        while (r.TryReadTag(out var f, out var w))
        {
            switch (f)
            {
                case 1 when w == LengthDelimited: result = ReadString(r.ReadBytes(), field); break;
                case 2 when w == Varint: result = r.ReadVarint() != 0 ? "true" : "false"; break;
                case 3 when w == Varint: result = ((long)r.ReadVarint()).ToString(CultureInfo.InvariantCulture); break;
                case 4 when w == Fixed64: result = r.ReadDouble().ToString("R", CultureInfo.InvariantCulture); break;
                case 5 when w == LengthDelimited: result = ReadArray(r.ReadBytes(), field, depth); break;
                case 6 when w == LengthDelimited: result = ReadKvList(r.ReadBytes(), field, depth); break;
                case 7 when w == LengthDelimited: result = Convert.ToBase64String(r.ReadBytes()); break;
                default: r.Skip(w); break;
            }
        }
        return result;
    }

    private static string ReadArray(ReadOnlySpan<byte> span, string field, int depth)
    {
        var items = new List<string>();
        var r = new WireReader(span);
        while (r.TryReadTag(out var f, out var w))
        {
            if (f == 1 && w == LengthDelimited) items.Add(System.Text.Json.JsonSerializer.Serialize(ReadAnyValue(r.ReadBytes(), field, depth + 1)));
            else r.Skip(w);
        }
        return "[" + string.Join(",", items) + "]";
    }

    private static string ReadKvList(ReadOnlySpan<byte> span, string field, int depth)
    {
        var items = new List<string>();
        var r = new WireReader(span);
        while (r.TryReadTag(out var f, out var w))
        {
            if (f == 1 && w == LengthDelimited)
            {
                var kv = ReadKeyValue(r.ReadBytes(), field, depth + 1);
                items.Add(System.Text.Json.JsonSerializer.Serialize(kv.Key) + ":" + System.Text.Json.JsonSerializer.Serialize(kv.Value));
            }
            else r.Skip(w);
        }
        return "{" + string.Join(",", items) + "}";
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string ReadString(ReadOnlySpan<byte> utf8, string field)
    {
        if (utf8.Length == 0) return "";
        if (utf8.Length <= 128 && System.Text.Unicode.Utf8.IsValid(utf8)) return Strings.Get(utf8);
        try { return StrictUtf8.GetString(utf8); }
        catch (DecoderFallbackException) { throw new OtlpFormatException(field, "A string is not valid UTF-8."); }
    }

    private static int ZigZag32(ulong v) => (int)((uint)v >> 1) ^ -(int)((uint)v & 1);

    /// <summary>A cursor over one protobuf message; throws <see cref="OtlpFormatException"/> on malformed input.</summary>
    private ref struct WireReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public bool TryReadTag(out int field, out int wire)
        {
            if (_pos >= _data.Length) { field = 0; wire = 0; return false; }
            var tag = ReadVarint();
            field = (int)(tag >> 3);
            wire = (int)(tag & 7);
            if (field == 0 || tag >> 3 > int.MaxValue) throw new OtlpFormatException("", "Malformed protobuf: invalid field tag.");
            return true;
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _data.Length) throw Truncated();
                var b = _data[_pos++];
                result |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return result;
            }
            throw new OtlpFormatException("", "Malformed protobuf: a varint is longer than 10 bytes.");
        }

        public ulong ReadFixed64()
        {
            if (_pos + 8 > _data.Length) throw Truncated();
            var v = BinaryPrimitives.ReadUInt64LittleEndian(_data.Slice(_pos, 8));
            _pos += 8;
            return v;
        }

        public double ReadDouble() => BitConverter.UInt64BitsToDouble(ReadFixed64());

        public ReadOnlySpan<byte> ReadBytes()
        {
            var length = ReadVarint();
            if (length > (ulong)(_data.Length - _pos)) throw Truncated();
            var span = _data.Slice(_pos, (int)length);
            _pos += (int)length;
            return span;
        }

        /// <summary>A uint64 sent as fixed64 (the current schema) or as a varint (older writers).</summary>
        public ulong ReadUInt64(int wire, string field) => wire switch
        {
            Fixed64 => ReadFixed64(),
            Varint => ReadVarint(),
            _ => throw new OtlpFormatException(field, $"Malformed protobuf: unexpected wire type {wire}."),
        };

        public void ReadRepeatedFixed64OrVarint(int wire, List<ulong> into, bool packedFixed, string field)
        {
            switch (wire)
            {
                case Fixed64: into.Add(ReadFixed64()); break;
                case Varint: into.Add(ReadVarint()); break;
                case LengthDelimited:
                {
                    var packed = new WireReader(ReadBytes());
                    if (packedFixed)
                    {
                        if (packed._data.Length % 8 != 0) throw new OtlpFormatException(field, "Malformed protobuf: packed fixed64 length is not a multiple of 8.");
                        while (packed._pos < packed._data.Length) into.Add(packed.ReadFixed64());
                    }
                    else
                    {
                        while (packed._pos < packed._data.Length) into.Add(packed.ReadVarint());
                    }
                    break;
                }
                default: throw new OtlpFormatException(field, $"Malformed protobuf: unexpected wire type {wire}.");
            }
        }

        public void ReadRepeatedDouble(int wire, List<double> into, string field)
        {
            switch (wire)
            {
                case Fixed64: into.Add(ReadDouble()); break;
                case LengthDelimited:
                {
                    var packed = new WireReader(ReadBytes());
                    if (packed._data.Length % 8 != 0) throw new OtlpFormatException(field, "Malformed protobuf: packed double length is not a multiple of 8.");
                    while (packed._pos < packed._data.Length) into.Add(packed.ReadDouble());
                    break;
                }
                default: throw new OtlpFormatException(field, $"Malformed protobuf: unexpected wire type {wire}.");
            }
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case Varint: ReadVarint(); break;
                case Fixed64: if (_pos + 8 > _data.Length) throw Truncated(); _pos += 8; break;
                case LengthDelimited: ReadBytes(); break;
                case Fixed32: if (_pos + 4 > _data.Length) throw Truncated(); _pos += 4; break;
                default: throw new OtlpFormatException("", $"Malformed protobuf: wire type {wire} is not valid here.");
            }
        }

        private static OtlpFormatException Truncated() => new("", "Malformed protobuf: a field runs past the end of its message.");
    }
}
