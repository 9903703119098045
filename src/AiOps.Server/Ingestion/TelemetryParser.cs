using System.Text.Json;
using AiOps.Abstractions;

namespace AiOps.Server.Ingestion;

/// <summary>Why one event of a batch was rejected.</summary>
public sealed record Rejection(int Index, string? Id, string Field, string Reason);

/// <summary>An entity as a dictionary key whose hash is computed once (the parser's grouping and the publisher's merge share it).</summary>
public readonly struct EntityKey : IEquatable<EntityKey>
{
    public EntityKey(EntityKind kind, string id)
    {
        Kind = kind;
        Id = id;
        _hash = HashCode.Combine(kind, id);
    }

    private readonly int _hash;
    public EntityKind Kind { get; }
    public string Id { get; }

    public bool Equals(EntityKey other) => _hash == other._hash && Kind == other.Kind && (ReferenceEquals(Id, other.Id) || string.Equals(Id, other.Id, StringComparison.Ordinal));
    public override bool Equals(object? obj) => obj is EntityKey other && Equals(other);
    public override int GetHashCode() => _hash;
    public override string ToString() => $"{Kind.ToWire()}/{Id}";
}

/// <summary>
/// The accepted points of one request in arrival order, each tagged with its entity, plus the rejections.
/// Points sit in one flat array rather than a list per entity: the publisher's merge then reads each request front
/// to back instead of chasing a small array per (request, entity) pair, and a pooled batch holds two arrays.
/// </summary>
public sealed class ParsedBatch
{
    private readonly Dictionary<EntityKey, int> _index = [];
    private readonly List<EntityKey> _entities = [];
    private TelemetryPoint[] _points = new TelemetryPoint[16];
    private int[] _entityOf = new int[16];
    private int[] _perEntity = new int[16];

    public List<Rejection> Rejections { get; } = [];
    public int Accepted { get; private set; }
    public int Total { get; set; }
    public Dictionary<string, int> RejectedByReason { get; } = [];

    /// <summary>Position of the ingest-log record holding this request (0: not logged).</summary>
    public long LogPosition { get; set; }

    /// <summary>The distinct entities, in the order of their first point.</summary>
    public IReadOnlyList<EntityKey> Entities => _entities;

    public bool Contains(EntityKey entity) => _index.ContainsKey(entity);

    /// <summary>Accepted points in arrival order.</summary>
    public ReadOnlySpan<TelemetryPoint> Points => _points.AsSpan(0, Accepted);

    /// <summary>For each point, the index of its entity in <see cref="Entities"/>.</summary>
    public ReadOnlySpan<int> EntityOf => _entityOf.AsSpan(0, Accepted);

    /// <summary>Points per entity (indexed like <see cref="Entities"/>).</summary>
    public ReadOnlySpan<int> PointsPerEntity => _perEntity.AsSpan(0, _entities.Count);

    internal void Add(EntityKey entity, TelemetryPoint point)
    {
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_index, entity, out var known);
        if (!known)
        {
            slot = _entities.Count;
            _entities.Add(entity);
            if (slot == _perEntity.Length) Array.Resize(ref _perEntity, slot * 2);
            _perEntity[slot] = 0;
        }
        if (Accepted == _points.Length)
        {
            Array.Resize(ref _points, Accepted * 2);
            Array.Resize(ref _entityOf, Accepted * 2);
        }
        _points[Accepted] = point;
        _entityOf[Accepted] = slot;
        _perEntity[slot]++;
        Accepted++;
    }

    /// <summary>The points of one entity, in order (tests and diagnostics; the publisher merges without it).</summary>
    public TelemetryPoint[] PointsOf(EntityKey entity)
    {
        if (!_index.TryGetValue(entity, out var e)) return [];
        var result = new TelemetryPoint[_perEntity[e]];
        var n = 0;
        for (var i = 0; i < Accepted; i++) if (_entityOf[i] == e) result[n++] = _points[i];
        return result;
    }

    // ---- pooling --------------------------------------------------------------------------------------------
    // Grouping state and point arrays were most of what parsing allocated, and they stay alive while the request
    // waits for its flush, so the GC promoted them. Batches are rented by the parser and given back by whoever is
    // done with them last (the publisher once the points are encoded, or the endpoint that rejected or ignored
    // them); a batch not given back is just collected.

    private const int PoolSize = 128;
    private const int MaxPooledPoints = 16_384;
    private static readonly System.Collections.Concurrent.ConcurrentQueue<ParsedBatch> Pool = new();
    private static int s_pooled;
    private int _rented; // 1 while handed out by Rent

    internal static ParsedBatch Rent()
    {
        if (Pool.TryDequeue(out var batch))
        {
            Interlocked.Decrement(ref s_pooled);
            batch._rented = 1;
            return batch;
        }
        return new ParsedBatch { _rented = 1 };
    }

    /// <summary>
    /// Gives the batch back for reuse. The caller must hold no reference to it or its rejections afterwards.
    /// Calling it twice, or on a batch that was not rented, does nothing.
    /// </summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _rented, 0) != 1) return;
        if (_points.Length > MaxPooledPoints) return; // unusually large: let the GC have it
        Array.Clear(_points, 0, Accepted); // drop the references (metric names, attributes)
        _index.Clear();
        _entities.Clear();
        Rejections.Clear();
        RejectedByReason.Clear();
        Accepted = 0;
        Total = 0;
        LogPosition = 0;
        if (Interlocked.Increment(ref s_pooled) <= PoolSize) Pool.Enqueue(this);
        else Interlocked.Decrement(ref s_pooled);
    }
}

/// <summary>The body could not be read as JSON at all, or broke a request-wide limit.</summary>
public sealed class TelemetryFormatException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>
/// Streaming parser for telemetry bodies: one JSON array of events, or NDJSON (one event object per line).
/// Built on <see cref="Utf8JsonReader"/>: no intermediate DOM, strings allocated only for what is kept.
/// Each event is validated on its own; a syntax error anywhere rejects the whole body.
/// </summary>
public static class TelemetryParser
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowMultipleValues = true,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 16,
    };

    /// <summary>
    /// <see cref="Utf8JsonReader.ValueTextEquals(ReadOnlySpan{byte})"/> that answers false instead of throwing for an
    /// escaped name or value that is not valid UTF-16 (a lone surrogate such as <c>"\ud800"</c>): such a property is
    /// then unknown, and the event is judged on the fields it lacks.
    /// </summary>
    /// <remarks>
    /// The plain case (no escapes, one segment) is small enough for the JIT to inline at each of the ~18 name checks an
    /// event takes; the try/catch lives in <see cref="EscapedTextIs"/> because a method with exception handling is never
    /// inlined. With the guard in this method every check was a call, and parsing took 7-15 % longer than before the
    /// guard (single-thread parse of the ingest bench's payloads; equal again with the split).
    /// </remarks>
    private static bool TextIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> text) =>
        !reader.ValueIsEscaped && !reader.HasValueSequence ? reader.ValueSpan.SequenceEqual(text) : EscapedTextIs(ref reader, text);

    private static bool EscapedTextIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> text)
    {
        try
        {
            return reader.ValueTextEquals(text);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public static ParsedBatch Parse(ReadOnlySpan<byte> body, DateTimeOffset now, int maxEvents = Limits.MaxEventsPerRequest)
    {
        var result = ParsedBatch.Rent();
        var reader = new Utf8JsonReader(body, ReaderOptions);
        var maxTimestamp = (now + Limits.MaxFutureSkew).ToUnixTimeMilliseconds();
        var minTimestamp = new DateTimeOffset(Limits.MinTimestamp).ToUnixTimeMilliseconds();
        var nowMs = now.ToUnixTimeMilliseconds();
        try
        {
            ParseInto(ref reader, body, result, nowMs, minTimestamp, maxTimestamp, maxEvents);
            return result;
        }
        catch
        {
            result.Release();
            throw;
        }
    }

    private static void ParseInto(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, ParsedBatch result, long nowMs, long minTimestamp, long maxTimestamp, int maxEvents)
    {
        try
        {
            if (!reader.Read()) throw new TelemetryFormatException("body", "The body is empty: send a JSON array of events or NDJSON.");
            var index = 0;
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    ReadOne(ref reader, body, index++, result, nowMs, minTimestamp, maxTimestamp, maxEvents);
                }
                if (reader.TokenType != JsonTokenType.EndArray) throw new TelemetryFormatException("body", "The JSON array is not closed.");
                if (reader.Read()) throw new TelemetryFormatException("body", "Unexpected content after the JSON array.");
            }
            else
            {
                do
                {
                    ReadOne(ref reader, body, index++, result, nowMs, minTimestamp, maxTimestamp, maxEvents);
                }
                while (reader.Read());
            }
            result.Total = index;
        }
        catch (JsonException ex)
        {
            throw new TelemetryFormatException("body", $"Malformed JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}: {ex.Message.Split(" LineNumber")[0]}");
        }
        if (result.Total == 0) throw new TelemetryFormatException("body", "The batch holds no events.");
    }

    private static void ReadOne(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, int index, ParsedBatch result, long nowMs, long minTs, long maxTs, int maxEvents)
    {
        if (index >= maxEvents)
            throw new TelemetryFormatException("body", $"A request may carry at most {maxEvents} events.");

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            Reject(result, index, null, "event", "Each event must be a JSON object.");
            return;
        }

        string? entityId = null, metric = null, eventId = null, error = null, errorField = null;
        var kindGiven = false;
        ulong eventIdHash = 0;
        int idStart = 0, idText = 0;
        var hasKind = false;
        EntityKind kind = default;
        double value = double.NaN;
        var hasValue = false;
        long timestamp = nowMs;
        List<KeyValuePair<string, string>>? attributes = null;

        void Fail(string field, string message)
        {
            if (error is null) { error = message; errorField = field; }
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (TextIs(ref reader, "entity"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); Fail("entity", "entity must be an object {\"kind\",\"id\"}."); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (TextIs(ref reader, "kind"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.String) { reader.Skip(); Fail("entity.kind", "entity.kind must be a string."); continue; }
                        kindGiven = true;
                        // The kinds' wire names are matched on the bytes (the kind table); anything else goes through the full parse.
                        if (!reader.ValueIsEscaped && !reader.HasValueSequence && EntityKinds.TryMatchWire(reader.ValueSpan, out kind)) hasKind = true;
                        else
                        {
                            var kindText = TryGetString(ref reader);
                            if (kindText is null) Fail("entity.kind", "entity.kind " + NotUtf8);
                            else if (EntityKinds.TryParse(kindText, out kind)) hasKind = true;
                            else Fail("entity.kind", $"Unknown entity kind '{Truncate(kindText)}': use {EntityKinds.WireNamesText}.");
                        }
                    }
                    else if (TextIs(ref reader, "id"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.String) { reader.Skip(); Fail("entity.id", "entity.id must be a string."); continue; }
                        // Valid plain ids come from the id cache (one string per entity, not per event).
                        if (!reader.ValueIsEscaped && !reader.HasValueSequence && IsValidAsciiId(reader.ValueSpan))
                        {
                            entityId = IdCache.Shared.Get(reader.ValueSpan);
                            continue;
                        }
                        entityId = TryGetString(ref reader);
                        if (entityId is null) Fail("entity.id", "entity.id " + NotUtf8);
                        else if (!Limits.IsValidId(entityId)) Fail("entity.id", $"entity.id must be 1-{Limits.MaxIdLength} characters of letters, digits and . _ - : @ (no slashes, spaces or control characters).");
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else if (TextIs(ref reader, "metric"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String) { reader.Skip(); Fail("metric", "metric must be a string."); continue; }
                // Vocabulary metrics reuse the vocabulary's strings (no allocation per event).
                metric = !reader.ValueIsEscaped && !reader.HasValueSequence && MetricVocabulary.TryGetName(reader.ValueSpan, out var known)
                    ? known
                    : TryGetString(ref reader);
                if (metric is null) Fail("metric", "metric " + NotUtf8);
                else if (!Limits.IsValidMetricName(metric)) Fail("metric", $"metric must be 1-{Limits.MaxMetricNameLength} characters of lower-case letters, digits, '.' and '_', starting with a letter.");
            }
            else if (TextIs(ref reader, "value"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out value) || !double.IsFinite(value))
                {
                    reader.Skip();
                    Fail("value", "value must be a finite JSON number.");
                    continue;
                }
                if (!Limits.IsValidValue(value))
                {
                    Fail("value", "value must be between -1e15 and 1e15 (sums of larger values could overflow).");
                    continue;
                }
                hasValue = true;
            }
            else if (TextIs(ref reader, "timestamp"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || !TryParseTimestamp(ref reader, out var ts))
                {
                    reader.Skip();
                    Fail("timestamp", "timestamp must be an RFC 3339 date-time string with an offset, e.g. 2026-11-27T10:00:00Z.");
                    continue;
                }
                if (ts > maxTs) Fail("timestamp", "timestamp is more than 5 minutes in the future.");
                else if (ts < minTs) Fail("timestamp", "timestamp is before 2000-01-01.");
                timestamp = ts;
            }
            else if (TextIs(ref reader, "id"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String) { reader.Skip(); Fail("id", "id must be a string."); continue; }
                // Hash the bytes in place; a string is made only if the event is rejected (the reply names it).
                if (!reader.ValueIsEscaped && !reader.HasValueSequence && IsValidAsciiId(reader.ValueSpan))
                {
                    eventIdHash = TelemetryPoint.HashId(reader.ValueSpan);
                    if (error is not null) eventId = reader.GetString();
                    idText = reader.ValueSpan.Length;
                    idStart = (int)reader.TokenStartIndex + 1;
                }
                else
                {
                    eventId = TryGetString(ref reader);
                    if (eventId is null) Fail("id", "id " + NotUtf8);
                    else if (!Limits.IsValidId(eventId)) Fail("id", $"id must be 1-{Limits.MaxIdLength} characters of letters, digits and . _ - : @.");
                    else eventIdHash = TelemetryPoint.HashId(eventId);
                }
            }
            else if (TextIs(ref reader, "attributes"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); Fail("attributes", "attributes must be an object of string values."); continue; }
                attributes = ReadAttributes(ref reader, ref error, ref errorField);
            }
            else
            {
                reader.Read();
                reader.Skip(); // unknown fields are ignored: producers may send more than we use
            }
        }

        if (error is null)
        {
            if (!kindGiven) Fail("entity.kind", "entity.kind is required.");
            else if (entityId is null) Fail("entity.id", "entity.id is required.");
            else if (metric is null) Fail("metric", "metric is required.");
            else if (!hasValue) Fail("value", "value is required.");
            else if (hasKind && !MetricVocabulary.AppliesTo(metric, kind)) Fail("metric", $"metric '{metric}' does not apply to a {kind.ToWire()}.");
        }

        if (error is not null)
        {
            if (eventId is null && idText > 0) eventId = System.Text.Encoding.ASCII.GetString(body.Slice(idStart, idText));
            Reject(result, index, eventId, errorField!, error);
            return;
        }

        result.Add(new EntityKey(kind, entityId!), new TelemetryPoint(metric!, value, timestamp, eventIdHash, attributes?.ToArray()));
    }


    /// <summary>
    /// The token's text, or null when it is not valid UTF-8 (raw invalid bytes, or an escaped lone surrogate):
    /// the reader only checks encoding when a string is made, and throws then.
    /// </summary>
    private static string? TryGetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private const string NotUtf8 = "is not valid UTF-8 (or holds an escaped lone surrogate).";

    private static bool IsValidAsciiId(ReadOnlySpan<byte> id)
    {
        if (id.Length is 0 or > Limits.MaxIdLength) return false;
        if (!char.IsAsciiLetterOrDigit((char)id[0])) return false;
        foreach (var b in id)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'.' or (byte)'_' or (byte)'-' or (byte)':' or (byte)'@')) return false;
        }
        return true;
    }

    // Errors come back through the caller's (error, field) pair, the first one kept: a delegate here would make the
    // caller's locals a heap closure for every event, attributes or not.
    private static List<KeyValuePair<string, string>>? ReadAttributes(ref Utf8JsonReader reader, ref string? error, ref string? errorField)
    {
        static void fail(string field, string message, ref string? error, ref string? errorField)
        {
            if (error is null) { error = message; errorField = field; }
        }

        var list = new List<KeyValuePair<string, string>>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = TryGetString(ref reader);
            reader.Read();
            if (key is null)
            {
                reader.Skip();
                fail("attributes", "an attribute key " + NotUtf8, ref error, ref errorField);
                continue;
            }
            var isString = reader.TokenType == JsonTokenType.String;
            string? value = reader.TokenType switch
            {
                JsonTokenType.String => TryGetString(ref reader),
                JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
                JsonTokenType.True => "true",
                JsonTokenType.False => "false",
                _ => null,
            };
            if (value is null)
            {
                reader.Skip();
                fail($"attributes.{Truncate(key)}", isString ? "attribute value " + NotUtf8 : "attribute values must be strings, numbers or booleans.", ref error, ref errorField);
                continue;
            }
            if (key.Length is 0 or > Limits.MaxAttributeKeyLength || key.Any(char.IsControl))
            {
                fail("attributes", $"attribute keys must be 1-{Limits.MaxAttributeKeyLength} characters without control characters.", ref error, ref errorField);
                continue;
            }
            if (value.Length > Limits.MaxAttributeValueLength || value.Any(char.IsControl))
            {
                fail($"attributes.{key}", $"attribute values must be at most {Limits.MaxAttributeValueLength} characters without control characters.", ref error, ref errorField);
                continue;
            }
            list.Add(new(key, value));
        }
        if (list.Count > Limits.MaxAttributesPerEvent) fail("attributes", $"at most {Limits.MaxAttributesPerEvent} attributes per event.", ref error, ref errorField);
        return list.Count == 0 ? null : list;
    }

    private static bool TryParseTimestamp(ref Utf8JsonReader reader, out long timestampMs)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence)
        {
            var text = TryGetString(ref reader);
            if (text is null) { timestampMs = 0; return false; }
            return Rfc3339.TryParse(System.Text.Encoding.UTF8.GetBytes(text), out timestampMs);
        }
        return Rfc3339.TryParse(reader.ValueSpan, out timestampMs);
    }

    private static void Reject(ParsedBatch result, int index, string? id, string field, string reason)
    {
        if (result.Rejections.Count < Limits.MaxRejectionsReported) result.Rejections.Add(new Rejection(index, id, field, reason));
        result.RejectedByReason[field] = result.RejectedByReason.GetValueOrDefault(field) + 1;
    }

    private static string Truncate(string? s) => s is null ? "" : s.Length > 40 ? s[..40] + "…" : s;
}
