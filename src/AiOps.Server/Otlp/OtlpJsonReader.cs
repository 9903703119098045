using System.Globalization;
using System.Text.Json;

namespace AiOps.Server.Otlp;

/// <summary>
/// Decodes an OTLP/JSON ExportMetricsServiceRequest (the protobuf JSON mapping as the OTLP spec constrains it):
/// lowerCamelCase keys (the original snake_case names are accepted too), 64-bit integers as strings or numbers,
/// enums as integers (their names accepted too), AnyValue objects such as <c>{"stringValue":"x"}</c>. Unknown
/// keys are ignored, as the spec requires.
/// </summary>
internal static class OtlpJsonReader
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    public static OtlpRequest Read(ReadOnlyMemory<byte> body, int maxDataPoints)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, Options);
        }
        catch (JsonException ex)
        {
            throw new OtlpFormatException("body", $"Malformed JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}.");
        }
        using (document)
        {
            try
            {
                return ReadRequest(document.RootElement, maxDataPoints);
            }
            catch (Exception ex) when (ex is InvalidOperationException or OverflowException or FormatException or ArgumentException)
            {
                // A lone surrogate in an escaped name or value, a number beyond its type: the body is not valid OTLP/JSON.
                throw new OtlpFormatException("body", $"The body is not valid OTLP/JSON: {ex.Message}");
            }
        }
    }

    private static OtlpRequest ReadRequest(JsonElement root, int maxDataPoints)
    {
        {
            if (root.ValueKind != JsonValueKind.Object) throw new OtlpFormatException("body", "The body must be a JSON object (ExportMetricsServiceRequest).");
            var request = new OtlpRequest();
            if (TryGet(root, "resourceMetrics", "resource_metrics", out var resources))
            {
                var ri = 0;
                foreach (var rm in Array(resources, "resourceMetrics"))
                {
                    ReadResourceMetrics(rm, $"resourceMetrics[{ri++}]", request, maxDataPoints);
                }
            }
            return request;
        }
    }

    private static void ReadResourceMetrics(JsonElement rm, string path, OtlpRequest request, int maxDataPoints)
    {
        Object(rm, path);
        var resource = new OtlpResource();
        request.Resources.Add(resource);
        if (TryGet(rm, "resource", "resource", out var res))
        {
            Object(res, path + ".resource");
            if (TryGet(res, "attributes", "attributes", out var attrs))
                resource.Attributes = ReadAttributes(attrs, path + ".resource.attributes") ?? [];
        }
        if (!TryGet(rm, "scopeMetrics", "scope_metrics", out var scopes)) return;
        var si = 0;
        foreach (var sm in Array(scopes, path + ".scopeMetrics"))
        {
            var spath = $"{path}.scopeMetrics[{si++}]";
            Object(sm, spath);
            var scope = "";
            if (TryGet(sm, "scope", "scope", out var sc) && sc.ValueKind == JsonValueKind.Object && TryGet(sc, "name", "name", out var sn))
                scope = String(sn, spath + ".scope.name");
            if (!TryGet(sm, "metrics", "metrics", out var metrics)) continue;
            var mi = 0;
            foreach (var m in Array(metrics, spath + ".metrics"))
            {
                var metric = ReadMetric(m, $"{spath}.metrics[{mi++}]", request, maxDataPoints);
                metric.Scope = scope;
                resource.Metrics.Add(metric);
            }
        }
    }

    private static OtlpMetric ReadMetric(JsonElement m, string path, OtlpRequest request, int maxDataPoints)
    {
        Object(m, path);
        var metric = new OtlpMetric();
        if (TryGet(m, "name", "name", out var name)) metric.Name = String(name, path + ".name");
        if (TryGet(m, "unit", "unit", out var unit)) metric.Unit = String(unit, path + ".unit");
        foreach (var (camel, snake, type) in DataKinds)
        {
            if (!TryGet(m, camel, snake, out var data) || data.ValueKind == JsonValueKind.Null) continue;
            if (metric.Type != OtlpMetricType.None) throw new OtlpFormatException($"{path}.{camel}", "A metric holds more than one kind of data (gauge, sum, histogram, ...).");
            metric.Type = type;
            var dpath = $"{path}.{camel}";
            Object(data, dpath);
            if (type is OtlpMetricType.Sum or OtlpMetricType.Histogram or OtlpMetricType.ExponentialHistogram
                && TryGet(data, "aggregationTemporality", "aggregation_temporality", out var t))
                metric.Temporality = ReadTemporality(t, dpath + ".aggregationTemporality");
            if (type == OtlpMetricType.Sum && TryGet(data, "isMonotonic", "is_monotonic", out var mono))
                metric.Monotonic = mono.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False or JsonValueKind.Null => false,
                    _ => throw new OtlpFormatException(dpath + ".isMonotonic", "isMonotonic must be a boolean."),
                };
            if (!TryGet(data, "dataPoints", "data_points", out var points)) continue;
            var pi = 0;
            foreach (var p in Array(points, dpath + ".dataPoints"))
            {
                if (++request.DataPoints > maxDataPoints)
                    throw new OtlpFormatException("dataPoints", $"A request may carry at most {maxDataPoints} data points; split the export batch.", tooLarge: true);
                metric.Points.Add(ReadPoint(p, $"{dpath}.dataPoints[{pi++}]", type));
            }
        }
        return metric;
    }

    private static readonly (string, string, OtlpMetricType)[] DataKinds =
    [
        ("gauge", "gauge", OtlpMetricType.Gauge),
        ("sum", "sum", OtlpMetricType.Sum),
        ("histogram", "histogram", OtlpMetricType.Histogram),
        ("exponentialHistogram", "exponential_histogram", OtlpMetricType.ExponentialHistogram),
        ("summary", "summary", OtlpMetricType.Summary),
    ];

    private static OtlpTemporality ReadTemporality(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var n) && n is >= 0 and <= 2) return (OtlpTemporality)n;
        if (e.ValueKind == JsonValueKind.String)
        {
            switch (e.GetString())
            {
                case "AGGREGATION_TEMPORALITY_UNSPECIFIED": return OtlpTemporality.Unspecified;
                case "AGGREGATION_TEMPORALITY_DELTA": return OtlpTemporality.Delta;
                case "AGGREGATION_TEMPORALITY_CUMULATIVE": return OtlpTemporality.Cumulative;
            }
        }
        throw new OtlpFormatException(path, "aggregationTemporality must be 1 (delta) or 2 (cumulative).");
    }

    private static OtlpPoint ReadPoint(JsonElement p, string path, OtlpMetricType type)
    {
        Object(p, path);
        var point = new OtlpPoint();
        if (TryGet(p, "attributes", "attributes", out var attrs)) point.Attributes = ReadAttributes(attrs, path + ".attributes");
        if (TryGet(p, "startTimeUnixNano", "start_time_unix_nano", out var start)) point.StartNs = UInt64(start, path + ".startTimeUnixNano");
        if (TryGet(p, "timeUnixNano", "time_unix_nano", out var time)) point.TimeNs = UInt64(time, path + ".timeUnixNano");
        if (TryGet(p, "flags", "flags", out var flags)) point.Flags = (uint)UInt64(flags, path + ".flags");
        switch (type)
        {
            case OtlpMetricType.Gauge or OtlpMetricType.Sum:
                if (TryGet(p, "asDouble", "as_double", out var d)) { point.Value = Double(d, path + ".asDouble"); point.HasValue = true; }
                else if (TryGet(p, "asInt", "as_int", out var i)) { point.Value = Int64(i, path + ".asInt"); point.HasValue = true; }
                break;
            case OtlpMetricType.Histogram:
                ReadCountSumMinMax(p, path, ref point);
                if (TryGet(p, "bucketCounts", "bucket_counts", out var bc)) point.BucketCounts = Array(bc, path + ".bucketCounts").Select((e, k) => UInt64(e, $"{path}.bucketCounts[{k}]")).ToArray();
                if (TryGet(p, "explicitBounds", "explicit_bounds", out var eb)) point.Bounds = Array(eb, path + ".explicitBounds").Select((e, k) => Double(e, $"{path}.explicitBounds[{k}]")).ToArray();
                break;
            case OtlpMetricType.ExponentialHistogram:
                ReadCountSumMinMax(p, path, ref point);
                if (TryGet(p, "scale", "scale", out var scale)) point.Scale = checked((int)Int64(scale, path + ".scale"));
                if (TryGet(p, "zeroCount", "zero_count", out var zc)) point.ZeroCount = UInt64(zc, path + ".zeroCount");
                if (TryGet(p, "zeroThreshold", "zero_threshold", out var zt)) point.ZeroThreshold = Double(zt, path + ".zeroThreshold");
                if (TryGet(p, "positive", "positive", out var pos)) (point.PositiveOffset, point.Positive) = ReadBuckets(pos, path + ".positive");
                if (TryGet(p, "negative", "negative", out var neg)) (point.NegativeOffset, point.Negative) = ReadBuckets(neg, path + ".negative");
                break;
            case OtlpMetricType.Summary:
                if (TryGet(p, "count", "count", out var c)) point.Count = UInt64(c, path + ".count");
                if (TryGet(p, "sum", "sum", out var s)) { point.Sum = Double(s, path + ".sum"); point.HasSum = true; }
                if (TryGet(p, "quantileValues", "quantile_values", out var qv))
                    point.Quantiles = Array(qv, path + ".quantileValues").Select((e, k) =>
                    {
                        var qpath = $"{path}.quantileValues[{k}]";
                        Object(e, qpath);
                        var q = TryGet(e, "quantile", "quantile", out var qe) ? Double(qe, qpath + ".quantile") : 0;
                        var v = TryGet(e, "value", "value", out var ve) ? Double(ve, qpath + ".value") : 0;
                        return (q, v);
                    }).ToArray();
                break;
        }
        return point;
    }

    private static void ReadCountSumMinMax(JsonElement p, string path, ref OtlpPoint point)
    {
        if (TryGet(p, "count", "count", out var c)) point.Count = UInt64(c, path + ".count");
        if (TryGet(p, "sum", "sum", out var s) && s.ValueKind != JsonValueKind.Null) { point.Sum = Double(s, path + ".sum"); point.HasSum = true; }
        if (TryGet(p, "min", "min", out var mn) && mn.ValueKind != JsonValueKind.Null) { point.Min = Double(mn, path + ".min"); point.HasMin = true; }
        if (TryGet(p, "max", "max", out var mx) && mx.ValueKind != JsonValueKind.Null) { point.Max = Double(mx, path + ".max"); point.HasMax = true; }
    }

    private static (int, ulong[]) ReadBuckets(JsonElement e, string path)
    {
        Object(e, path);
        var offset = TryGet(e, "offset", "offset", out var o) ? checked((int)Int64(o, path + ".offset")) : 0;
        var counts = TryGet(e, "bucketCounts", "bucket_counts", out var bc)
            ? Array(bc, path + ".bucketCounts").Select((x, k) => UInt64(x, $"{path}.bucketCounts[{k}]")).ToArray()
            : [];
        return (offset, counts);
    }

    private static KeyValuePair<string, string>[]? ReadAttributes(JsonElement attrs, string path)
    {
        if (attrs.ValueKind == JsonValueKind.Null) return null;
        var list = new List<KeyValuePair<string, string>>();
        var k = 0;
        foreach (var kv in Array(attrs, path))
        {
            var kpath = $"{path}[{k++}]";
            Object(kv, kpath);
            var key = TryGet(kv, "key", "key", out var ke) ? String(ke, kpath + ".key") : "";
            var value = TryGet(kv, "value", "value", out var ve) ? AnyValue(ve, kpath + ".value") : "";
            list.Add(new(key, value));
        }
        return list.Count == 0 ? null : list.ToArray();
    }

    private static string AnyValue(JsonElement v, string path)
    {
        if (v.ValueKind == JsonValueKind.Null) return "";
        Object(v, path);
        foreach (var p in v.EnumerateObject())
        {
            switch (p.Name)
            {
                case "stringValue" or "string_value": return String(p.Value, path + ".stringValue");
                case "boolValue" or "bool_value": return p.Value.ValueKind == JsonValueKind.True ? "true" : "false";
                case "intValue" or "int_value": return Int64(p.Value, path + ".intValue").ToString(CultureInfo.InvariantCulture);
                case "doubleValue" or "double_value": return Double(p.Value, path + ".doubleValue").ToString("R", CultureInfo.InvariantCulture);
                case "bytesValue" or "bytes_value": return String(p.Value, path + ".bytesValue");
                case "arrayValue" or "array_value":
                {
                    var items = p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("values", out var vals)
                        ? Array(vals, path + ".arrayValue.values").Select((x, i) => JsonSerializer.Serialize(AnyValue(x, $"{path}.arrayValue.values[{i}]")))
                        : [];
                    return "[" + string.Join(",", items) + "]";
                }
                case "kvlistValue" or "kvlist_value":
                {
                    var items = p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("values", out var vals)
                        ? (ReadAttributes(vals, path + ".kvlistValue.values") ?? []).Select(kv => JsonSerializer.Serialize(kv.Key) + ":" + JsonSerializer.Serialize(kv.Value))
                        : [];
                    return "{" + string.Join(",", items) + "}";
                }
            }
        }
        return "";
    }

    private static bool TryGet(JsonElement e, string camel, string snake, out JsonElement value) =>
        e.TryGetProperty(camel, out value) || (!ReferenceEquals(camel, snake) && camel != snake && e.TryGetProperty(snake, out value));

    private static void Object(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new OtlpFormatException(path, $"{Last(path)} must be a JSON object.");
    }

    private static JsonElement.ArrayEnumerator Array(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Array) throw new OtlpFormatException(path, $"{Last(path)} must be a JSON array.");
        return e.EnumerateArray();
    }

    private static string String(JsonElement e, string path) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Null => "",
        _ => throw new OtlpFormatException(path, $"{Last(path)} must be a string."),
    };

    private static ulong UInt64(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out var n)) return n;
        if (e.ValueKind == JsonValueKind.String && ulong.TryParse(e.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out n)) return n;
        throw new OtlpFormatException(path, $"{Last(path)} must be an unsigned 64-bit integer (a JSON number or a decimal string).");
    }

    private static long Int64(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var n)) return n;
        if (e.ValueKind == JsonValueKind.String && long.TryParse(e.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n)) return n;
        throw new OtlpFormatException(path, $"{Last(path)} must be a 64-bit integer (a JSON number or a decimal string).");
    }

    private static double Double(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var d)) return d;
        if (e.ValueKind == JsonValueKind.String)
        {
            switch (e.GetString())
            {
                case "NaN": return double.NaN;
                case "Infinity": return double.PositiveInfinity;
                case "-Infinity": return double.NegativeInfinity;
            }
            if (double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d)) return d;
        }
        throw new OtlpFormatException(path, $"{Last(path)} must be a number.");
    }

    private static string Last(string path)
    {
        var dot = path.LastIndexOf('.');
        return dot < 0 ? path : path[(dot + 1)..];
    }
}
