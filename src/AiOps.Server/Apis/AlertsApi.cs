using System.Text;
using System.Text.Json;
using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.Server.Alerting;
using AiOps.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Apis;

/// <summary>Body of acknowledge / resolve / comment. <c>by</c> is used only when the request is not authenticated.</summary>
public sealed record AlertActionRequest(string? By, string? Reason, string? Text);

/// <summary>Body of the test-fire endpoint (all optional).</summary>
public sealed record TestAlertRequest(double? Score, string? Summary, double? MoneyAtRisk);

public static class AlertsApi
{
    public const int MaxPageSize = 1000;
    public const int MaxTextLength = 2000;
    public const int MaxActorLength = Limits.MaxNameLength;
    public const string TestEntityPrefix = "aiops-test-";
    public const string TestMetric = "aiops.test";

    /// <summary>Maps the alerting routes: alerts (incl. the live feed and test-fire), silences and webhooks.</summary>
    public static IEndpointRouteBuilder MapAlertsApi(this IEndpointRouteBuilder app)
    {
        MapAlerts(app);
        app.MapSilencesApi();
        app.MapWebhooksApi();
        return app;
    }

    private static void MapAlerts(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/alerts").WithTags("Alerts");

        group.MapGet("/", ListAsync)
            .WithName("ListAlerts")
            .RequireAuthorization(Policies.Read)
            .WithSummary("List alerts, newest first; filter by state, kind, severity, entity, metric, opening time and anomaly reason (point, pattern, level)")
            .ProducesValidationProblem();
        group.MapGet("/stream", StreamAsync)
            .WithName("StreamAlerts")
            .RequireAuthorization(Policies.Read)
            .WithSummary("Live alert events as Server-Sent Events (event: alert), with optional filters and Last-Event-ID replay")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/test", TestAsync)
            .WithName("FireTestAlert")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("Raise a synthetic test alert (MetricAnomaly on a test entity) through the real path: silences, live feed, webhooks")
            .ProducesValidationProblem();
        group.MapGet("/{id}", GetAsync)
            .WithName("GetAlert")
            .RequireAuthorization(Policies.Read)
            .WithSummary("An alert with its history and webhook delivery log")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/ack", (HttpContext http, IClusterClient client, string id, AlertActionRequest? body) =>
                ActAsync(http, client, id, body, Action.Acknowledge))
            .WithName("AcknowledgeAlert")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("Acknowledge an open alert")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{id}/resolve", (HttpContext http, IClusterClient client, string id, AlertActionRequest? body) =>
                ActAsync(http, client, id, body, Action.Resolve))
            .WithName("ResolveAlert")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("Resolve an open or acknowledged alert")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{id}/comments", (HttpContext http, IClusterClient client, string id, AlertActionRequest? body) =>
                ActAsync(http, client, id, body, Action.Comment))
            .WithName("CommentOnAlert")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("Add a comment to an alert's history")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private enum Action { Acknowledge, Resolve, Comment }

    // ---- list / get --------------------------------------------------------------------------------

    private static async Task<Results<Ok<AlertPage>, ValidationProblem>> ListAsync(
        IClusterClient client, string? state, string? kind, string? severity, string? minSeverity, string? entityKind,
        string? entityId, string? metric, DateTimeOffset? from, DateTimeOffset? to, bool? silenced, string? reason, int? offset, int? limit)
    {
        var errors = new Dictionary<string, string[]>();
        var reasons = AlertQueryParsing.ParseList<AnomalyReason>(reason, "reason", errors);
        var states = AlertQueryParsing.ParseList<AlertState>(state, "state", errors);
        var kinds = AlertQueryParsing.ParseList<AlertKind>(kind, "kind", errors);
        var severities = AlertQueryParsing.ParseList<AlertSeverity>(severity, "severity", errors);
        var min = AlertQueryParsing.ParseOne<AlertSeverity>(minSeverity, "minSeverity", errors);
        var ek = AlertQueryParsing.ParseEntityKind(entityKind, errors);
        AlertQueryParsing.CheckGlob(entityId, "entityId", errors);
        AlertQueryParsing.CheckGlob(metric, "metric", errors);
        if (from is not null && to is not null && from >= to) errors["from"] = ["from must be before to."];
        if (offset < 0) errors["offset"] = ["offset must be ≥ 0."];
        if (limit is < 1 or > MaxPageSize) errors["limit"] = [$"limit must be between 1 and {MaxPageSize}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var page = await client.GetGrain<IAlertIndexGrain>(IAlertIndexGrain.DefaultKey).QueryAsync(new AlertQuery
        {
            States = states,
            Kinds = kinds,
            Severities = severities,
            MinSeverity = min,
            EntityKind = ek,
            EntityId = entityId,
            Metric = metric,
            From = from?.UtcDateTime,
            To = to?.UtcDateTime,
            Silenced = silenced,
            Reasons = reasons,
            Offset = offset ?? 0,
            Limit = limit ?? 100,
        });
        return TypedResults.Ok(page);
    }

    private static async Task<Results<Ok<AlertDetail>, ProblemHttpResult, ValidationProblem>> GetAsync(IClusterClient client, string id)
    {
        if (InvalidAlertId(id) is { } invalid) return invalid;
        var header = await client.GetGrain<IAlertIndexGrain>(IAlertIndexGrain.DefaultKey).FindAsync(id);
        var detail = header is null ? null : await client.GetGrain<IAlertKeyGrain>(header.Key).GetAsync(id);
        return detail is null ? AlertNotFound(id) : TypedResults.Ok(detail);
    }

    // ---- actions -----------------------------------------------------------------------------------

    private static async Task<Results<Ok<AlertDetail>, ProblemHttpResult, ValidationProblem>> ActAsync(
        HttpContext http, IClusterClient client, string id, AlertActionRequest? body, Action action)
    {
        var errors = new Dictionary<string, string[]>();
        if (!IsAlertId(id)) errors["id"] = ["id must be a 26-character alert id."];
        string? text = action == Action.Comment ? body?.Text ?? body?.Reason : body?.Reason ?? body?.Text;
        var textField = action == Action.Comment ? "text" : "reason";
        if (action == Action.Comment && string.IsNullOrWhiteSpace(text)) errors["text"] = ["text is required."];
        if (text is not null && (text.Length > MaxTextLength || text.Any(c => char.IsControl(c) && c is not '\n' and not '\t')))
            errors[textField] = [$"{textField} must be at most {MaxTextLength} characters without control characters (other than newline and tab)."];
        if (body?.By is { } by && (by.Length > MaxActorLength || by.Any(char.IsControl)))
            errors["by"] = [$"by must be at most {MaxActorLength} characters without control characters."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The request was not accepted; nothing was changed.");

        var actor = ActorOf(http, body?.By);
        var header = await client.GetGrain<IAlertIndexGrain>(IAlertIndexGrain.DefaultKey).FindAsync(id);
        if (header is null) return AlertNotFound(id);
        var grain = client.GetGrain<IAlertKeyGrain>(header.Key);
        text = string.IsNullOrWhiteSpace(text) ? null : text.Trim();
        var result = action switch
        {
            Action.Acknowledge => await grain.AcknowledgeAsync(id, actor, text),
            Action.Resolve => await grain.ResolveAsync(id, actor, text),
            _ => await grain.CommentAsync(id, actor, text!),
        };
        return result.Status switch
        {
            AlertActionStatus.Done => TypedResults.Ok(result.Alert!),
            AlertActionStatus.Conflict => TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The alert is not in a state that allows this; nothing was changed.",
                Detail = result.Message,
            }),
            _ => AlertNotFound(id),
        };
    }

    /// <summary>The authenticated key's name when there is one; otherwise the body's <c>by</c>; otherwise "anonymous".</summary>
    internal static string ActorOf(HttpContext http, string? by) =>
        http.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name
        : string.IsNullOrWhiteSpace(by) ? "anonymous"
        : by.Trim();

    // ---- test fire -----------------------------------------------------------------------------------

    private static async Task<Results<Created<AlertDetail>, ValidationProblem>> TestAsync(IClusterClient client, TimeProvider time, TestAlertRequest? body)
    {
        var errors = new Dictionary<string, string[]>();
        if (body?.Score is { } score && !(score is >= 0 and <= 1)) errors["score"] = ["score must be between 0 and 1."];
        if (body?.Summary is { } summary && (summary.Length > Limits.MaxNameLength || summary.Any(char.IsControl)))
            errors["summary"] = [$"summary must be at most {Limits.MaxNameLength} characters without control characters."];
        if (body?.MoneyAtRisk is { } money && !(double.IsFinite(money) && money >= 0)) errors["moneyAtRisk"] = ["moneyAtRisk must be a finite number ≥ 0."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The request was not accepted; nothing was changed.");

        var now = time.GetUtcNow().UtcDateTime;
        var signal = new AlertSignal
        {
            EntityKind = EntityKind.Pipeline,
            EntityId = TestEntityPrefix + SortableId.New().ToLowerInvariant(),
            Metric = TestMetric,
            Kind = AlertKind.MetricAnomaly,
            Firing = true,
            At = now,
            Score = body?.Score ?? 0.99,
            Value = 1,
            MoneyAtRisk = body?.MoneyAtRisk,
            Summary = body?.Summary ?? "Test alert raised through the API (synthetic: no real entity is affected).",
            ReceivedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        var detail = await client.GetGrain<IAlertKeyGrain>(AlertKey.Of(signal).ToString()).FireTestAsync(signal);
        return TypedResults.Created($"/api/v1/alerts/{detail.Alert.Id}", detail);
    }

    // ---- live feed (SSE) -------------------------------------------------------------------------------

    private static async Task<IResult> StreamAsync(
        HttpContext http, AlertFeedHub hub, IOptions<AlertFeedOptions> feedOptions, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
        string? kind, string? minSeverity, string? entityKind, string? entityId, string? metric, string? lastEventId)
    {
        var errors = new Dictionary<string, string[]>();
        var kinds = AlertQueryParsing.ParseList<AlertKind>(kind, "kind", errors);
        var min = AlertQueryParsing.ParseOne<AlertSeverity>(minSeverity ?? http.Request.Query["severity"].FirstOrDefault(), "minSeverity", errors);
        var ek = AlertQueryParsing.ParseEntityKind(entityKind, errors);
        AlertQueryParsing.CheckGlob(entityId, "entityId", errors);
        AlertQueryParsing.CheckGlob(metric, "metric", errors);
        var last = http.Request.Headers["Last-Event-ID"].FirstOrDefault() ?? lastEventId;
        if (last is not null && (last.Length > 64 || last.Any(char.IsControl))) errors["Last-Event-ID"] = ["Last-Event-ID must be an event id."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        using var subscription = hub.Subscribe(new AlertFeedFilter(kinds, min, ek, entityId, metric), last);
        if (subscription is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Too many live-feed clients on this server; retry later.");
        }

        var ct = http.RequestAborted;
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();

        var serializer = json.Value.SerializerOptions;
        try
        {
            await response.WriteAsync("retry: 2000\n: connected\n\n", ct);
            foreach (var e in subscription.Replay) await WriteEventAsync(response, e, serializer, ct);
            await response.Body.FlushAsync(ct);

            var heartbeatEvery = feedOptions.Value.Heartbeat;
            var reader = subscription.Reader;
            var replayed = subscription.Replay.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
            Task<bool>? waiting = null;
            var heartbeat = Task.Delay(heartbeatEvery, ct);
            while (!ct.IsCancellationRequested)
            {
                waiting ??= reader.WaitToReadAsync(ct).AsTask();
                var done = await Task.WhenAny(waiting, heartbeat);
                if (done == heartbeat)
                {
                    await heartbeat; // surfaces cancellation
                    await response.WriteAsync(": heartbeat\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    heartbeat = Task.Delay(heartbeatEvery, ct);
                    continue;
                }
                if (!await waiting) break; // hub stopped
                waiting = null;
                while (reader.TryRead(out var e))
                {
                    if (replayed.Count > 0 && replayed.Remove(e.EventId)) continue;
                    await WriteEventAsync(response, e, serializer, ct);
                }
                await response.Body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Client went away.
        }
        return Results.Empty;
    }

    private static Task WriteEventAsync(HttpResponse response, AlertFeedEvent e, JsonSerializerOptions options, CancellationToken ct)
    {
        var sb = new StringBuilder(512);
        sb.Append("id: ").Append(e.EventId).Append("\nevent: alert\ndata: ")
            .Append(JsonSerializer.Serialize(e, options)).Append("\n\n");
        return response.WriteAsync(sb.ToString(), ct);
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    internal static bool IsAlertId(string id) => id.Length == 26 && id.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterUpper(c));

    private static ValidationProblem? InvalidAlertId(string id) => IsAlertId(id)
        ? null
        : TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["id must be a 26-character alert id."] });

    private static ProblemHttpResult AlertNotFound(string id) => TypedResults.Problem(new ProblemDetails
    {
        Status = 404,
        Title = "Unknown alert",
        Detail = $"No alert '{id}' (or it is older than the retained history).",
    });
}

/// <summary>Query-string parsing shared by the alert list, the live feed and silences.</summary>
internal static class AlertQueryParsing
{
    public const int MaxListItems = 16;
    public const int MaxPatternLength = 128;

    public static T[]? ParseList<T>(string? text, string field, Dictionary<string, string[]> errors) where T : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > MaxListItems)
        {
            errors[field] = [$"{field} accepts at most {MaxListItems} values."];
            return null;
        }
        var values = new List<T>();
        foreach (var p in parts)
        {
            if (TryParseEnum<T>(p, out var v)) values.Add(v);
            else
            {
                errors[field] = [$"{field} must be one or more of {Names<T>()} (comma-separated); '{Truncate(p)}' is not."];
                return null;
            }
        }
        return values.ToArray();
    }

    public static T? ParseOne<T>(string? text, string field, Dictionary<string, string[]> errors) where T : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (TryParseEnum<T>(text.Trim(), out var v)) return v;
        errors[field] = [$"{field} must be one of {Names<T>()}."];
        return null;
    }

    public static bool TryParseEnum<T>(string text, out T value) where T : struct, Enum =>
        Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value) && !char.IsAsciiDigit(text[0]) && text[0] != '-';

    public static EntityKind? ParseEntityKind(string? text, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (EntityKinds.TryParse(text.Trim(), out var k)) return k;
        errors["entityKind"] = ["entityKind must be pipeline, model or costcenter."];
        return null;
    }

    /// <summary>Entity ids and metric names, optionally with '*' wildcards.</summary>
    public static bool IsValidPattern(string value) =>
        value.Length is > 0 and <= MaxPatternLength
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '@' or '*');

    public static void CheckGlob(string? value, string field, Dictionary<string, string[]> errors)
    {
        if (value is not null && !IsValidPattern(value))
            errors[field] = [$"{field} must be 1-{MaxPatternLength} characters of letters, digits, . _ - : @ and the wildcard *."];
    }

    public static string Names<T>() where T : struct, Enum =>
        string.Join(", ", Enum.GetNames<T>().Select(n => JsonNamingPolicy.CamelCase.ConvertName(n)));

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
