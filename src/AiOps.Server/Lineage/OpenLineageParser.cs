using System.Text.Json;
using AiOps.Abstractions;
using AiOps.Server.Ingestion;

namespace AiOps.Server.Lineage;

/// <summary>A field of an OpenLineage body that is not valid: JSON pointer (RFC 6901) and why.</summary>
internal sealed record LineageError(string Pointer, string Message);

/// <summary>
/// Reads and checks OpenLineage events: one event object, or a JSON array of them. What is checked is the spec's core
/// (OpenLineage.json 2-0-2): <c>eventTime</c> (date-time), <c>producer</c> and <c>schemaURL</c> (absolute URIs) on
/// every event; RunEvent: <c>run.runId</c> (UUID), <c>job.namespace</c>/<c>job.name</c>, <c>eventType</c> in the
/// enum, inputs/outputs with namespace and name; DatasetEvent: <c>dataset</c>; JobEvent: <c>job</c>; and the facets
/// the platform reads (schema, ownership, documentation, dataSource, parent, errorMessage, jobType,
/// input/outputStatistics, dataQualityAssertions) where present. Other facets pass unread. Hand-written rather than
/// a JSON Schema validator on the hot path: see README (OpenLineage) for the measurement behind that.
/// </summary>
internal static class OpenLineageParser
{
    public const int MaxEventsPerRequest = 1000;
    public const int MaxNameLength = 1024;
    public const int MaxErrorsReported = 100;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    private static readonly string[] EventTypes = ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"];

    /// <summary>Parses a body; on any error returns the errors and no events (a request is applied whole or not at all).</summary>
    public static (List<OpenLineageEvent> Events, List<LineageError> Errors, bool IsArray) Parse(ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        var events = new List<OpenLineageEvent>();
        var errors = new List<LineageError>();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray(), DocumentOptions);
        }
        catch (JsonException ex)
        {
            errors.Add(new("", $"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine})."));
            return (events, errors, false);
        }
        using (doc)
        {
            var root = doc.RootElement;
            var isArray = root.ValueKind == JsonValueKind.Array;
            if (isArray)
            {
                var n = root.GetArrayLength();
                if (n == 0) errors.Add(new("", "The array holds no events."));
                else if (n > MaxEventsPerRequest) errors.Add(new("", $"A request may carry at most {MaxEventsPerRequest} events."));
                else
                {
                    var i = 0;
                    foreach (var e in root.EnumerateArray())
                    {
                        var ev = ReadEvent(e, $"/{i}", errors, now);
                        if (ev is not null) events.Add(ev);
                        i++;
                        if (errors.Count >= MaxErrorsReported) break;
                    }
                }
            }
            else
            {
                var ev = ReadEvent(root, "", errors, now);
                if (ev is not null) events.Add(ev);
            }
            if (errors.Count > 0) events.Clear();
            return (events, errors, isArray);
        }
    }

    private const string NotUtf8 = "holds a string or property name that is not valid UTF-8 (or an escaped lone surrogate).";

    // The reader checks a string's encoding only when it is read or compared, and throws then: such an event is a 400.
    private static OpenLineageEvent? ReadEvent(JsonElement e, string at, List<LineageError> errors, DateTimeOffset now)
    {
        try
        {
            return ReadEventUnchecked(e, at, errors, now);
        }
        catch (InvalidOperationException)
        {
            errors.Add(new(at, "The event " + NotUtf8));
            return null;
        }
    }

    private static OpenLineageEvent? ReadEventUnchecked(JsonElement e, string at, List<LineageError> errors, DateTimeOffset now)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new(at, "An event must be a JSON object."));
            return null;
        }
        var before = errors.Count;
        void Fail(string pointer, string message) => errors.Add(new(at + pointer, message));

        // BaseEvent
        long timeMs = 0;
        if (!e.TryGetProperty("eventTime", out var time)) Fail("/eventTime", "eventTime is required.");
        else if (time.ValueKind != JsonValueKind.String || !TryParseTime(time.GetString()!, out timeMs))
            Fail("/eventTime", "eventTime must be an ISO 8601 / RFC 3339 date-time (without an offset it is read as UTC).");
        else if (timeMs > (now + Limits.MaxFutureSkew).ToUnixTimeMilliseconds()) Fail("/eventTime", "eventTime is more than 5 minutes in the future.");
        else if (timeMs < new DateTimeOffset(Limits.MinTimestamp).ToUnixTimeMilliseconds()) Fail("/eventTime", "eventTime is before 2000-01-01.");
        RequireUri(e, "producer", Fail);
        RequireUri(e, "schemaURL", Fail);

        var hasRun = e.TryGetProperty("run", out var run);
        var hasJob = e.TryGetProperty("job", out var job);
        var hasDataset = e.TryGetProperty("dataset", out var dataset);

        if (hasRun)
        {
            string? eventType = null;
            if (e.TryGetProperty("eventType", out var type))
            {
                eventType = type.ValueKind == JsonValueKind.String ? type.GetString() : null;
                if (eventType is null || !EventTypes.Contains(eventType))
                    Fail("/eventType", "eventType must be one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER.");
            }
            string? runId = null;
            if (run.ValueKind != JsonValueKind.Object) Fail("/run", "run must be an object with a runId.");
            else if (!run.TryGetProperty("runId", out var id)) Fail("/run/runId", "run.runId is required.");
            else if (id.ValueKind != JsonValueKind.String || !Guid.TryParseExact(id.GetString(), "D", out _)) Fail("/run/runId", "run.runId must be a UUID.");
            else runId = id.GetString()!.ToLowerInvariant();
            if (!hasJob) Fail("/job", "job is required in a RunEvent.");
            var (jobNs, jobName, jobType, jobDescription) = hasJob ? ReadJob(job, "/job", Fail) : default;

            string? parentNs = null, parentName = null, parentRun = null, error = null;
            if (run.ValueKind == JsonValueKind.Object && run.TryGetProperty("facets", out var runFacets))
            {
                if (runFacets.ValueKind != JsonValueKind.Object) Fail("/run/facets", "run.facets must be an object.");
                else
                {
                    if (runFacets.TryGetProperty("parent", out var parent))
                        (parentNs, parentName, parentRun) = ReadParent(parent, "/run/facets/parent", Fail);
                    if (runFacets.TryGetProperty("errorMessage", out var em))
                    {
                        if (em.ValueKind != JsonValueKind.Object || !em.TryGetProperty("message", out var msg) || msg.ValueKind != JsonValueKind.String)
                            Fail("/run/facets/errorMessage/message", "errorMessage.message must be a string.");
                        else error = msg.GetString();
                    }
                }
            }
            var ev = new OpenLineageEvent
            {
                Kind = OpenLineageEventKind.Run,
                EventType = eventType,
                EventTimeMs = timeMs,
                RunId = runId,
                JobNamespace = jobNs,
                JobName = jobName,
                JobType = jobType,
                JobDescription = jobDescription,
                ParentJobNamespace = parentNs,
                ParentJobName = parentName,
                ParentRunId = parentRun,
                ErrorMessage = error,
            };
            ReadDatasets(e, "inputs", input: true, ev.Inputs, Fail);
            ReadDatasets(e, "outputs", input: false, ev.Outputs, Fail);
            return errors.Count == before ? ev : null;
        }
        if (hasDataset && !hasJob)
        {
            var d = ReadDataset(dataset, "/dataset", input: false, Fail);
            return errors.Count == before && d is not null
                ? new OpenLineageEvent { Kind = OpenLineageEventKind.Dataset, EventTimeMs = timeMs, Dataset = d }
                : null;
        }
        if (hasJob)
        {
            var (jobNs, jobName, jobType, jobDescription) = ReadJob(job, "/job", Fail);
            var ev = new OpenLineageEvent
            {
                Kind = OpenLineageEventKind.Job,
                EventTimeMs = timeMs,
                JobNamespace = jobNs,
                JobName = jobName,
                JobType = jobType,
                JobDescription = jobDescription,
            };
            ReadDatasets(e, "inputs", input: true, ev.Inputs, Fail);
            ReadDatasets(e, "outputs", input: false, ev.Outputs, Fail);
            return errors.Count == before ? ev : null;
        }
        Fail("/run", "An event needs run and job (RunEvent), dataset (DatasetEvent) or job (JobEvent).");
        return null;
    }

    internal static bool TryParseTime(string text, out long unixMs)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        if (Rfc3339.TryParse(bytes, out unixMs)) return true;
        // Python clients before 1.x sent naive times (no offset): read as UTC.
        if (text.Length >= 19 && text.Length <= 40 && !text.EndsWith('Z') && text.IndexOf('+', 19) < 0 && text.IndexOf('-', 19) < 0)
            return Rfc3339.TryParse(System.Text.Encoding.UTF8.GetBytes(text + "Z"), out unixMs);
        return false;
    }

    private static void RequireUri(JsonElement e, string field, Action<string, string> fail)
    {
        if (!e.TryGetProperty(field, out var v)) fail("/" + field, $"{field} is required (a URI).");
        else if (v.ValueKind != JsonValueKind.String || !Uri.TryCreate(v.GetString(), UriKind.Absolute, out _))
            fail("/" + field, $"{field} must be an absolute URI.");
    }

    private static string? Name(JsonElement obj, string field, string at, Action<string, string> fail)
    {
        if (!obj.TryGetProperty(field, out var v)) { fail($"{at}/{field}", $"{field} is required."); return null; }
        if (v.ValueKind != JsonValueKind.String) { fail($"{at}/{field}", $"{field} must be a string."); return null; }
        var s = v.GetString()!;
        if (s.Length is 0 or > MaxNameLength || s.Any(char.IsControl))
        {
            fail($"{at}/{field}", $"{field} must be 1-{MaxNameLength} characters without control characters.");
            return null;
        }
        return s;
    }

    private static (string? Ns, string? Name, string? JobType, string? Description) ReadJob(JsonElement job, string at, Action<string, string> fail)
    {
        if (job.ValueKind != JsonValueKind.Object) { fail(at, "job must be an object with namespace and name."); return default; }
        var ns = Name(job, "namespace", at, fail);
        var name = Name(job, "name", at, fail);
        string? jobType = null, description = null;
        if (job.TryGetProperty("facets", out var facets) && facets.ValueKind == JsonValueKind.Object)
        {
            if (facets.TryGetProperty("jobType", out var jt) && jt.ValueKind == JsonValueKind.Object
                && jt.TryGetProperty("jobType", out var t) && t.ValueKind == JsonValueKind.String)
                jobType = Short(t.GetString());
            if (facets.TryGetProperty("documentation", out var doc) && doc.ValueKind == JsonValueKind.Object
                && doc.TryGetProperty("description", out var dd) && dd.ValueKind == JsonValueKind.String)
                description = Short(dd.GetString(), 2000);
        }
        else if (job.TryGetProperty("facets", out var bad) && bad.ValueKind != JsonValueKind.Object)
            fail(at + "/facets", "job.facets must be an object.");
        return (ns, name, jobType, description);
    }

    private static (string? Ns, string? Name, string? RunId) ReadParent(JsonElement parent, string at, Action<string, string> fail)
    {
        if (parent.ValueKind != JsonValueKind.Object) { fail(at, "parent must be an object with job (and run)."); return default; }
        if (!parent.TryGetProperty("job", out var job) || job.ValueKind != JsonValueKind.Object)
        {
            fail(at + "/job", "parent.job with namespace and name is required.");
            return default;
        }
        var ns = Name(job, "namespace", at + "/job", fail);
        var name = Name(job, "name", at + "/job", fail);
        string? runId = null;
        // The spec requires parent.run.runId; integrations (Spark) send the parent job alone, so it is optional here.
        if (parent.TryGetProperty("run", out var run) && run.ValueKind == JsonValueKind.Object && run.TryGetProperty("runId", out var id))
        {
            if (id.ValueKind != JsonValueKind.String || !Guid.TryParseExact(id.GetString(), "D", out _)) fail(at + "/run/runId", "parent.run.runId must be a UUID.");
            else runId = id.GetString()!.ToLowerInvariant();
        }
        return (ns, name, runId);
    }

    private static void ReadDatasets(JsonElement e, string field, bool input, List<OpenLineageDataset> into, Action<string, string> fail)
    {
        if (!e.TryGetProperty(field, out var list) || list.ValueKind == JsonValueKind.Null) return;
        if (list.ValueKind != JsonValueKind.Array) { fail("/" + field, $"{field} must be an array of datasets."); return; }
        var i = 0;
        foreach (var d in list.EnumerateArray())
        {
            var ds = ReadDataset(d, $"/{field}/{i}", input, fail);
            if (ds is not null) into.Add(ds);
            i++;
        }
    }

    private static OpenLineageDataset? ReadDataset(JsonElement d, string at, bool input, Action<string, string> fail)
    {
        if (d.ValueKind != JsonValueKind.Object) { fail(at, "a dataset must be an object with namespace and name."); return null; }
        var ns = Name(d, "namespace", at, fail);
        var name = Name(d, "name", at, fail);
        if (ns is null || name is null) return null;
        var ds = new OpenLineageDataset { Namespace = ns, Name = name };
        var hash = new HashCode();
        var described = false;
        if (d.TryGetProperty("facets", out var facets))
        {
            if (facets.ValueKind != JsonValueKind.Object) fail(at + "/facets", "facets must be an object.");
            else
            {
                if (facets.TryGetProperty("schema", out var schema))
                {
                    ds.Fields = ReadFields(schema, at + "/facets/schema", fail);
                    hash.Add(schema.GetRawText());
                    described = true;
                }
                if (facets.TryGetProperty("ownership", out var ownership))
                {
                    ds.Owners = ReadOwners(ownership, at + "/facets/ownership", fail);
                    hash.Add(ownership.GetRawText());
                    described = true;
                }
                if (facets.TryGetProperty("documentation", out var doc) && doc.ValueKind == JsonValueKind.Object
                    && doc.TryGetProperty("description", out var dd) && dd.ValueKind == JsonValueKind.String)
                {
                    ds.Description = Short(dd.GetString(), 2000);
                    hash.Add(ds.Description);
                    described = true;
                }
                if (facets.TryGetProperty("dataSource", out var source) && source.ValueKind == JsonValueKind.Object
                    && source.TryGetProperty("name", out var sn) && sn.ValueKind == JsonValueKind.String)
                {
                    ds.SourceName = Short(sn.GetString());
                    hash.Add(ds.SourceName);
                    described = true;
                }
                ReadAssertions(facets, at + "/facets", ds, fail);
            }
        }
        var ioField = input ? "inputFacets" : "outputFacets";
        if (d.TryGetProperty(ioField, out var io))
        {
            if (io.ValueKind != JsonValueKind.Object) fail($"{at}/{ioField}", $"{ioField} must be an object.");
            else
            {
                var statsName = input ? "inputStatistics" : "outputStatistics";
                if (io.TryGetProperty(statsName, out var stats))
                {
                    if (stats.ValueKind != JsonValueKind.Object) fail($"{at}/{ioField}/{statsName}", $"{statsName} must be an object.");
                    else if (stats.TryGetProperty("rowCount", out var rc))
                    {
                        if (rc.ValueKind != JsonValueKind.Number || !rc.TryGetInt64(out var rows) || rows < 0 || rows > Limits.MaxAbsValue)
                            fail($"{at}/{ioField}/{statsName}/rowCount", "rowCount must be a non-negative integer (at most 1e15).");
                        else ds.RowCount = rows;
                    }
                }
                ReadAssertions(io, $"{at}/{ioField}", ds, fail);
            }
        }
        ds.FactsHash = described ? (ulong)(uint)hash.ToHashCode() << 32 | (uint)(ns.Length * 31 + name.Length) : 0;
        return ds;
    }

    private static void ReadAssertions(JsonElement facets, string at, OpenLineageDataset ds, Action<string, string> fail)
    {
        if (!facets.TryGetProperty("dataQualityAssertions", out var dq)) return;
        if (dq.ValueKind != JsonValueKind.Object || !dq.TryGetProperty("assertions", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            fail(at + "/dataQualityAssertions/assertions", "dataQualityAssertions.assertions must be an array.");
            return;
        }
        var i = 0;
        foreach (var a in list.EnumerateArray())
        {
            if (a.ValueKind != JsonValueKind.Object || !a.TryGetProperty("success", out var ok) || ok.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                fail($"{at}/dataQualityAssertions/assertions/{i}/success", "each assertion needs success (true or false).");
            else
            {
                ds.Assertions++;
                if (ok.ValueKind == JsonValueKind.False) ds.FailedAssertions++;
            }
            i++;
        }
    }

    private static List<DatasetField>? ReadFields(JsonElement schema, string at, Action<string, string> fail)
    {
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Array)
        {
            fail(at + "/fields", "schema.fields must be an array.");
            return null;
        }
        var result = new List<DatasetField>();
        var i = 0;
        foreach (var f in fields.EnumerateArray())
        {
            if (f.ValueKind != JsonValueKind.Object || !f.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
                fail($"{at}/fields/{i}/name", "each schema field needs a name.");
            else if (result.Count < 500)
                result.Add(new DatasetField(Short(n.GetString())!, Str(f, "type"), Str(f, "description", 1000)));
            i++;
        }
        return result;
    }

    private static List<DatasetOwner>? ReadOwners(JsonElement ownership, string at, Action<string, string> fail)
    {
        if (ownership.ValueKind != JsonValueKind.Object || !ownership.TryGetProperty("owners", out var owners) || owners.ValueKind != JsonValueKind.Array)
        {
            fail(at + "/owners", "ownership.owners must be an array.");
            return null;
        }
        var result = new List<DatasetOwner>();
        var i = 0;
        foreach (var o in owners.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
                fail($"{at}/owners/{i}/name", "each owner needs a name.");
            else if (result.Count < 50)
                result.Add(new DatasetOwner(Short(n.GetString())!, Str(o, "type")));
            i++;
        }
        return result;
    }

    private static string? Str(JsonElement obj, string field, int max = 256) =>
        obj.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? Short(v.GetString(), max) : null;

    private static string? Short(string? s, int max = 256) => s is null ? null : s.Length <= max ? s : s[..max];
}
