using System.Buffers;
using System.IO.Compression;
using AiOps.Abstractions;
using AiOps.Server.Hosting;
using AiOps.Server.Ingestion;
using AiOps.Server.Ingestion.Durability;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AiOps.Server.Apis;

/// <summary>One telemetry event as producers send it (documented shape; the parser reads it directly).</summary>
public sealed record TelemetryEventDto(
    TelemetryEntityDto Entity,
    string Metric,
    double Value,
    DateTimeOffset? Timestamp,
    string? Id,
    Dictionary<string, string>? Attributes);

public sealed record TelemetryEntityDto(string Kind, string Id);

/// <summary>Reply to an ingestion request: how many events were accepted, and which were not and why.</summary>
public sealed record IngestResponse(int Accepted, int Rejected, IReadOnlyList<Rejection> Rejections);

public static class TelemetryApi
{
    public static IEndpointRouteBuilder MapTelemetryApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/telemetry", IngestAsync)
            .WithName("IngestTelemetry")
            .WithTags("Telemetry")
            .WithSummary("Ingest telemetry events")
            .WithDescription(
                "Body: a JSON array of events, or NDJSON (one event per line); `Content-Encoding: gzip` accepted. " +
                "Event: `{\"entity\":{\"kind\":\"pipeline|model|costcenter\",\"id\":\"…\"},\"metric\":\"…\",\"value\":1.5," +
                "\"timestamp\":\"RFC 3339 (optional, default now)\",\"id\":\"optional event id\",\"attributes\":{…}}`. " +
                $"Limits: body {Limits.MaxRequestBodyBytes / (1024 * 1024)} MiB ({Limits.MaxDecompressedBodyBytes / (1024 * 1024)} MiB decompressed), " +
                $"{Limits.MaxEventsPerRequest} events per request, ids {Limits.MaxIdLength} characters, metric names {Limits.MaxMetricNameLength}, " +
                $"{Limits.MaxAttributesPerEvent} attributes per event. Each event is validated on its own: the reply lists the rejected ones " +
                "(index, field, reason). A body that is not JSON, or in which no event is valid, gets 400 problem details and nothing is applied. " +
                "An event id seen again for the same entity is counted once. " +
                "202 means: in embedded mode, the events are in the ingest log on disk and survive a crash of the process (replayed at start, " +
                "applied once); in cluster mode, they are on their PostgreSQL streams (configurable: AiOps:Ingestion:Acknowledge). " +
                "503 (retry later) when the buffer stays full; nothing of such a request is applied.")
            // Documented here rather than with Accepts(): Accepts() makes routing answer 415 itself, without naming the header.
            .AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            {
                var schema = await context.GetOrCreateSchemaAsync(typeof(TelemetryEventDto[]), null, cancellationToken);
                var item = await context.GetOrCreateSchemaAsync(typeof(TelemetryEventDto), null, cancellationToken);
                operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
                {
                    Required = true,
                    Description = "A JSON array of events, or NDJSON with one event per line.",
                    Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = schema },
                        ["application/x-ndjson"] = new() { Schema = item },
                    },
                };
            })
            .Produces<IngestResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery()
            .RequireAuthorization(Security.Policies.Ingest);
        return app;
    }

    private static readonly string[] JsonMediaTypes =
        ["application/json", "application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines", "text/plain"];

    internal static async Task<Results<Accepted<IngestResponse>, ValidationProblem, ProblemHttpResult>> IngestAsync(
        HttpRequest request, TelemetryPublisher publisher, IngestLog log, AiOpsMetrics metrics, TimeProvider time, CancellationToken cancellationToken)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (mediaType is not null && !JsonMediaTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase) && !mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Send application/json (an array of events) or application/x-ndjson, not '{mediaType}'.", "Content-Type");
        }

        var (body, length, error) = await ReadBodyAsync(request, cancellationToken);
        if (error is not null) return error;
        try
        {
            ParsedBatch parsed;
            try
            {
                parsed = TelemetryParser.Parse(body.AsSpan(0, length), time.GetUtcNow());
            }
            catch (TelemetryFormatException ex)
            {
                metrics.Rejected(ex.Field, 1);
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { [ex.Field] = [ex.Message] },
                    detail: ex.Message, title: "The telemetry body was not accepted; nothing was applied.");
            }

            foreach (var (field, count) in parsed.RejectedByReason) metrics.Rejected(field, count);
            // Everything the reply needs is taken now: once handed to the publisher, the batch is reused after its flush.
            var (accepted, total) = (parsed.Accepted, parsed.Total);
            var rejections = parsed.Rejections.Count == 0 ? [] : parsed.Rejections.ToArray();
            if (accepted == 0)
            {
                parsed.Release();
                var errors = rejections
                    .GroupBy(r => $"[{r.Index}].{r.Field}")
                    .ToDictionary(g => g.Key, g => g.Select(r => r.Reason).ToArray());
                return TypedResults.ValidationProblem(errors,
                    detail: $"None of the {total} events is valid; nothing was applied.",
                    title: "No valid telemetry events");
            }

            try
            {
                if (log.Enabled) await log.AcceptAsync(parsed);
                else await publisher.PublishAsync(parsed);
            }
            catch (IngestionBusyException ex)
            {
                return Problem(StatusCodes.Status503ServiceUnavailable, "Ingestion is busy", ex.Message, null);
            }
            metrics.Accepted(accepted);
            return TypedResults.Accepted((string?)null, new IngestResponse(accepted, total - accepted, rejections));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>Reads the whole body (decompressing gzip) into a pooled buffer, enforcing the size limits.</summary>
    internal static async Task<(byte[] Buffer, int Length, ProblemHttpResult? Error)> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > Limits.MaxRequestBodyBytes)
            return (Array.Empty<byte>(), 0, TooLarge());
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = Limits.MaxRequestBodyBytes;

        var encoding = request.Headers.ContentEncoding.ToString();
        Stream source = request.Body;
        long limit = Limits.MaxRequestBodyBytes;
        if (encoding.Length > 0)
        {
            if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
            {
                source = new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
                limit = Limits.MaxDecompressedBodyBytes;
            }
            else if (!encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            {
                return (Array.Empty<byte>(), 0, Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported content encoding",
                    $"Content-Encoding '{encoding}' is not supported; use gzip or none.", "Content-Encoding"));
            }
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 64 * 1024, 4096, Limits.MaxRequestBodyBytes) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return (Array.Empty<byte>(), 0, TooLarge());
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var read = await source.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0) break;
                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (Array.Empty<byte>(), 0, TooLarge());
                }
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return (Array.Empty<byte>(), 0, TooLarge());
        }
        catch (InvalidDataException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return (Array.Empty<byte>(), 0, Problem(StatusCodes.Status400BadRequest, "Invalid gzip body", "The body is not valid gzip data.", "body"));
        }
        finally
        {
            if (!ReferenceEquals(source, request.Body)) await source.DisposeAsync();
        }
        return (buffer, length, null);
    }

    private static ProblemHttpResult TooLarge() => Problem(StatusCodes.Status413PayloadTooLarge, "Body too large",
        $"A telemetry body may be at most {Limits.MaxRequestBodyBytes} bytes ({Limits.MaxDecompressedBodyBytes} bytes after gzip decompression); split the batch.", "body");

    internal static ProblemHttpResult Problem(int status, string title, string detail, string? field)
    {
        var extensions = field is null ? null : new Dictionary<string, object?> { ["field"] = field };
        return TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
    }
}
