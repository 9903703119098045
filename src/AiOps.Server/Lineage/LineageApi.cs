using System.Buffers;
using AiOps.Abstractions;
using AiOps.Server.Apis;
using AiOps.Server.Hosting;
using AiOps.Server.Ingestion;
using AiOps.Server.Ingestion.Durability;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AiOps.Server.Lineage;

/// <summary>OpenLineage in (<c>POST /api/v1/lineage</c>) and the lineage graph out (<c>GET /api/v1/lineage</c>).</summary>
public static class LineageApi
{
    public const int DefaultDepth = 20;
    public const int MaxDepth = 100;

    public static WebApplicationBuilder AddAiOpsLineage(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<LineageIngestor>();
        return builder;
    }

    public static IEndpointRouteBuilder MapLineageApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/lineage", IngestAsync)
            .WithName("IngestOpenLineage")
            .WithTags("Lineage")
            .WithSummary("Ingest OpenLineage events (RunEvent, DatasetEvent, JobEvent)")
            .WithDescription(
                "Body: one OpenLineage event, or a JSON array of at most 1,000 (application/json; gzip accepted). " +
                "Checked against the spec's core (eventTime, producer, schemaURL, run.runId, job, eventType, datasets and the facets used). " +
                "A request is applied whole or not at all: any invalid event gets 400 problem details naming each bad field by JSON pointer " +
                "(`/0/eventTime`), and nothing is applied. Jobs become pipelines, datasets become dataset entities, run events become run " +
                "telemetry through the durable ingest log (202 means kept); a replayed event (same runId, eventType, eventTime) counts once.")
            // The body is documented in the description rather than with Accepts(): Accepts() makes routing answer 415 itself, without naming the header.
            .Produces<LineageIngestResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery()
            .RequireAuthorization(Security.Policies.Ingest);

        app.MapGet("/api/v1/lineage", GetAsync)
            .WithName("GetLineage")
            .WithTags("Lineage")
            .WithSummary("The lineage graph around a node, in Marquez's shape")
            .WithDescription(
                "`node`: `dataset:<namespace>:<name>`, `job:<namespace>:<name>` or `model:<model id>`; `depth`: edges to follow in " +
                $"either direction (1-{MaxDepth}, default {DefaultDepth}). Answer: `{{\"graph\":[{{\"id\",\"type\":\"DATASET|JOB|MODEL\",\"data\",\"inEdges\",\"outEdges\"}}]}}`.")
            .RequireAuthorization(Security.Policies.Read);
        return app;
    }

    internal static async Task<Results<Accepted<LineageIngestResponse>, ValidationProblem, ProblemHttpResult>> IngestAsync(
        HttpRequest request, LineageIngestor ingestor, TelemetryPublisher publisher, IngestLog log, AiOpsMetrics metrics, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (mediaType is not null && !mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            && !mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            return TelemetryApi.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Send application/json (an OpenLineage event or an array of them), not '{mediaType}'.", "Content-Type");
        }
        var (body, length, error) = await TelemetryApi.ReadBodyAsync(request, cancellationToken);
        if (error is not null) return error;
        List<OpenLineageEvent> events;
        try
        {
            var (parsed, errors, _) = OpenLineageParser.Parse(body.AsSpan(0, length), time.GetUtcNow());
            if (errors.Count > 0)
            {
                metrics.Rejected("openlineage", 1);
                var byField = errors.GroupBy(e => e.Pointer).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
                return TypedResults.ValidationProblem(byField,
                    detail: $"{errors.Count} field(s) are not valid OpenLineage (first: {errors[0].Pointer}: {errors[0].Message}); nothing was applied.",
                    title: "The OpenLineage body was not accepted; nothing was applied.");
            }
            events = parsed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }

        // Graph and dataset facts first: they are idempotent, so a request refused below (503) and retried applies them once.
        var changes = await ingestor.ApplyMetadataAsync(events);
        var points = LineageIngestor.BuildPoints(events);
        var pointCount = points.Accepted;
        if (pointCount == 0) points.Release();
        else
        {
            try
            {
                if (log.Enabled) await log.AcceptAsync(points);
                else await publisher.PublishAsync(points);
            }
            catch (IngestionBusyException ex)
            {
                return TelemetryApi.Problem(StatusCodes.Status503ServiceUnavailable, "Ingestion is busy", ex.Message, null);
            }
            metrics.Accepted(pointCount);
        }
        return TypedResults.Accepted((string?)null, new LineageIngestResponse(
            events.Count,
            events.Count(e => e.Kind == OpenLineageEventKind.Run),
            events.Count(e => e.Kind == OpenLineageEventKind.Dataset),
            events.Count(e => e.Kind == OpenLineageEventKind.Job),
            pointCount,
            changes));
    }

    internal static async Task<Results<Ok<LineageGraph>, NotFound<ProblemDetails>, ValidationProblem>> GetAsync(
        IClusterClient client, string? node, int? depth)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(node)) errors["node"] = ["node is required: dataset:<namespace>:<name>, job:<namespace>:<name> or model:<id>."];
        else if (!(node.StartsWith("dataset:", StringComparison.Ordinal) || node.StartsWith("job:", StringComparison.Ordinal) || node.StartsWith("model:", StringComparison.Ordinal))
                 || node.Length > 2 * OpenLineageParser.MaxNameLength + 16 || node.Any(char.IsControl))
            errors["node"] = ["node must be dataset:<namespace>:<name>, job:<namespace>:<name> or model:<id>."];
        if (depth is < 1 or > MaxDepth) errors["depth"] = [$"depth must be between 1 and {MaxDepth}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var graph = await client.GetGrain<ILineageGraphGrain>(ILineageGraphGrain.DefaultKey).GetAsync(node!, depth ?? DefaultDepth);
        if (graph is null)
        {
            return TypedResults.NotFound(new ProblemDetails
            {
                Status = 404,
                Title = "Unknown lineage node",
                Detail = $"No node '{node}' is in the lineage graph.",
            });
        }
        return TypedResults.Ok(graph);
    }
}
