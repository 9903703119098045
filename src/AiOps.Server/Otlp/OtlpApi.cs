using System.Text;
using AiOps.Server.Apis;
using AiOps.Server.Hosting;
using AiOps.Server.Ingestion;
using AiOps.Server.Ingestion.Durability;

namespace AiOps.Server.Otlp;

/// <summary>
/// OTLP/HTTP metrics receiver: <c>POST /v1/metrics</c>, the path OpenTelemetry exporters append to their endpoint.
/// Binary protobuf (<c>application/x-protobuf</c>) or JSON (<c>application/json</c>), optionally gzip. The events go
/// through the same durable path as <c>/api/v1/telemetry</c>: a 200 means they are in the ingest log.
/// </summary>
public static class OtlpApi
{
    public const string Route = "/v1/metrics";

    public static IEndpointRouteBuilder MapOtlpApi(this IEndpointRouteBuilder app)
    {
        // The registry's clock starts with the application, not with the first request: a cumulative series that
        // began after this moment is counted from its first point (see OtlpSeriesRegistry.StartedNs).
        _ = app.ServiceProvider.GetRequiredService<OtlpSeriesRegistry>();
        app.MapPost(Route, ExportAsync)
            .WithName("ExportOtlpMetrics")
            .WithTags("OTLP")
            .WithSummary("OTLP/HTTP metrics export (protobuf or JSON)")
            .WithDescription(
                "The OTLP/HTTP metrics endpoint: an ExportMetricsServiceRequest as `application/x-protobuf` or `application/json` " +
                "(`Content-Encoding: gzip` accepted). The key goes in `Authorization: Bearer …` or `X-Api-Key` (role ingest or admin). " +
                "Entities come from the resource attributes `aiops.entity.kind`/`aiops.entity.id`, else `service.name` → model (AiOps:Otlp). " +
                "Gauges, sums (cumulative turned into deltas per series), histograms and exponential histograms (count, sum, quantiles from buckets), summaries. " +
                "200: an ExportMetricsServiceResponse in the request's encoding, with partial_success (rejected_data_points, error_message) when some points " +
                "were rejected; the rest is in the ingest log. 400 when the body cannot be decoded or no data point is valid (protobuf: a google.rpc.Status; " +
                "JSON: problem details), 413 too large, 415 other media types, 503 with Retry-After when ingestion is busy (nothing applied).")
            .Produces(StatusCodes.Status200OK, contentType: "application/x-protobuf")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery()
            .RequireAuthorization(Security.Policies.Ingest);
        return app;
    }

    internal static async Task<IResult> ExportAsync(HttpRequest request, OtlpTranslator translator, OtlpMetrics otlpMetrics,
        TelemetryPublisher publisher, IngestLog log, AiOpsMetrics metrics, Microsoft.Extensions.Options.IOptions<OtlpOptions> options, CancellationToken cancellationToken)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        bool protobuf;
        if (string.Equals(mediaType, "application/x-protobuf", StringComparison.OrdinalIgnoreCase) || string.Equals(mediaType, "application/protobuf", StringComparison.OrdinalIgnoreCase))
            protobuf = true;
        else if (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
            protobuf = false;
        else
            return TelemetryApi.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"OTLP/HTTP takes application/x-protobuf or application/json, not '{mediaType ?? "(none)"}'.", "Content-Type");

        var (body, length, readError) = await TelemetryApi.ReadBodyAsync(request, cancellationToken);
        if (readError is not null)
        {
            var problem = readError.ProblemDetails;
            return Error(protobuf, problem.Status ?? 400, problem.Title ?? "Bad request", problem.Detail ?? "", problem.Extensions.TryGetValue("field", out var f) ? f as string : "body");
        }

        OtlpTranslation translation;
        try
        {
            OtlpRequest decoded;
            try
            {
                decoded = protobuf
                    ? OtlpProtobufReader.Read(body.AsSpan(0, length), options.Value.MaxDataPointsPerRequest)
                    : OtlpJsonReader.Read(body.AsMemory(0, length), options.Value.MaxDataPointsPerRequest);
            }
            catch (OtlpFormatException ex)
            {
                otlpMetrics.RequestRejected(ex.TooLarge ? "too_large" : "malformed");
                return ex.TooLarge
                    ? Error(protobuf, StatusCodes.Status413PayloadTooLarge, "Too many data points", ex.Message, ex.Field)
                    : Error(protobuf, StatusCodes.Status400BadRequest, protobuf ? "Malformed OTLP protobuf" : "Malformed OTLP JSON",
                        $"{(ex.Field.Length > 0 ? ex.Field + ": " : "")}{ex.Message} Nothing was applied.", ex.Field.Length > 0 ? ex.Field : "body");
            }
            translation = translator.Translate(decoded);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(body);
        }

        var parsed = translation.Batch;
        var accepted = parsed.Accepted;
        otlpMetrics.Translated(translation);
        if (accepted == 0)
        {
            parsed.Release();
            if (translation.Rejected > 0 && translation.Rejected == translation.DataPoints)
            {
                translator.Undo(translation);
                return Error(protobuf, StatusCodes.Status400BadRequest, "No valid data point",
                    translation.ErrorMessage() + ". Nothing was applied.", translation.Reasons.Keys.FirstOrDefault() ?? "body");
            }
            return Success(protobuf, translation);
        }

        try
        {
            if (log.Enabled) await log.AcceptAsync(parsed);
            else await publisher.PublishAsync(parsed);
        }
        catch (IngestionBusyException ex)
        {
            translator.Undo(translation);
            otlpMetrics.RequestRejected("busy");
            request.HttpContext.Response.Headers.RetryAfter = "1";
            return Error(protobuf, StatusCodes.Status503ServiceUnavailable, "Ingestion is busy", ex.Message + " Nothing was applied; retry.", null);
        }
        catch
        {
            translator.Undo(translation);
            throw;
        }
        metrics.Accepted(accepted);
        return Success(protobuf, translation);
    }

    private static IResult Success(bool protobuf, OtlpTranslation translation)
    {
        var message = translation.ErrorMessage();
        if (protobuf) return new ProtobufResult(OtlpResponses.ExportResponse(translation.Rejected, message), StatusCodes.Status200OK);
        return Results.Json(translation.Rejected == 0
            ? new ExportMetricsResponseJson(null)
            : new ExportMetricsResponseJson(new PartialSuccessJson(translation.Rejected.ToString(System.Globalization.CultureInfo.InvariantCulture), message)),
            OtlpJsonContext.Default.ExportMetricsResponseJson);
    }

    /// <summary>A whole-request error: a google.rpc.Status for protobuf requests (as the OTLP spec asks), problem details for JSON.</summary>
    private static IResult Error(bool protobuf, int status, string title, string detail, string? field)
    {
        if (!protobuf) return TelemetryApi.Problem(status, title, detail, field);
        var code = status switch
        {
            StatusCodes.Status503ServiceUnavailable => 14, // UNAVAILABLE
            StatusCodes.Status413PayloadTooLarge => 8,     // RESOURCE_EXHAUSTED
            _ => 3,                                        // INVALID_ARGUMENT
        };
        var text = field is null ? $"{title}: {detail}" : $"{title} ({field}): {detail}";
        return new ProtobufResult(OtlpResponses.Status(code, text), status);
    }
}

/// <summary>ExportMetricsServiceResponse in OTLP/JSON (int64 as a decimal string, as the protobuf JSON mapping writes it).</summary>
public sealed record ExportMetricsResponseJson(
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] PartialSuccessJson? PartialSuccess);

public sealed record PartialSuccessJson(string RejectedDataPoints, string ErrorMessage);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ExportMetricsResponseJson))]
internal sealed partial class OtlpJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>A protobuf body with a status code.</summary>
internal sealed class ProtobufResult(byte[] body, int status) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = status;
        httpContext.Response.ContentType = "application/x-protobuf";
        httpContext.Response.ContentLength = body.Length;
        if (body.Length > 0) await httpContext.Response.Body.WriteAsync(body);
    }
}

/// <summary>The two protobuf messages the receiver writes, by hand like the reader.</summary>
internal static class OtlpResponses
{
    /// <summary>ExportMetricsServiceResponse { partial_success = 1 { rejected_data_points = 1; error_message = 2; } }; empty when all was taken.</summary>
    public static byte[] ExportResponse(long rejected, string message)
    {
        if (rejected == 0 && message.Length == 0) return [];
        var inner = new List<byte>();
        inner.Add(0x08);
        Varint(inner, (ulong)rejected);
        if (message.Length > 0) { inner.Add(0x12); Bytes(inner, Encoding.UTF8.GetBytes(message)); }
        var outer = new List<byte> { 0x0A };
        Bytes(outer, inner.ToArray());
        return outer.ToArray();
    }

    /// <summary>google.rpc.Status { code = 1; message = 2; }.</summary>
    public static byte[] Status(int code, string message)
    {
        var bytes = new List<byte> { 0x08 };
        Varint(bytes, (ulong)code);
        bytes.Add(0x12);
        Bytes(bytes, Encoding.UTF8.GetBytes(message));
        return bytes.ToArray();
    }

    private static void Bytes(List<byte> into, byte[] value)
    {
        Varint(into, (ulong)value.Length);
        into.AddRange(value);
    }

    private static void Varint(List<byte> into, ulong v)
    {
        while (v >= 0x80) { into.Add((byte)(v | 0x80)); v >>= 7; }
        into.Add((byte)v);
    }
}
