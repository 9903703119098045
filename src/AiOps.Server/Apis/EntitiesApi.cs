using AiOps.Abstractions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AiOps.Server.Apis;

/// <summary>Metadata an operator registers for an entity. Fields that do not apply to the kind must be left out.</summary>
public sealed record EntityMetadataRequest(
    string? Name,
    string? Owner,
    string? Team,
    string? Description,
    string? CostCenterId,
    string? TrainingPipelineId,
    double? MonthlyBudget,
    string? Currency,
    double? FreshnessSlaSeconds,
    double? MaxErrorRate,
    double? MaxLatencyMs,
    Dictionary<string, string>? Labels,
    double? MaxSilenceSeconds = null,
    string? TimeZone = null)
{
    public Dictionary<string, string[]> Validate(EntityKind kind)
    {
        var errors = new Dictionary<string, string[]>();
        void Check(bool ok, string field, string message) { if (!ok) errors[field] = [message]; }
        void Text(string? value, string field) =>
            Check(value is null || (value.Length <= Limits.MaxNameLength && !value.Any(char.IsControl)), field,
                $"{field} must be at most {Limits.MaxNameLength} characters without control characters.");

        Text(Name, "name");
        Text(Owner, "owner");
        Text(Team, "team");
        Check(Description is null || (Description.Length <= 2000 && !Description.Any(c => char.IsControl(c) && c is not '\n' and not '\t')),
            "description", "description must be at most 2000 characters.");
        Check(CostCenterId is null || Limits.IsValidId(CostCenterId), "costCenterId", "costCenterId must be a valid entity id.");
        Check(CostCenterId is null || kind is EntityKind.Pipeline or EntityKind.Model, "costCenterId", "costCenterId applies to pipelines and models.");
        Check(TrainingPipelineId is null || Limits.IsValidId(TrainingPipelineId), "trainingPipelineId", "trainingPipelineId must be a valid entity id.");
        Check(TrainingPipelineId is null || kind == EntityKind.Model, "trainingPipelineId", "trainingPipelineId applies to models.");
        Check(MonthlyBudget is null || (double.IsFinite(MonthlyBudget.Value) && MonthlyBudget >= 0), "monthlyBudget", "monthlyBudget must be a finite number ≥ 0.");
        Check(MonthlyBudget is null || kind == EntityKind.CostCenter, "monthlyBudget", "monthlyBudget applies to cost centers.");
        Check(Currency is null || (Currency.Length == 3 && Currency.All(char.IsAsciiLetterUpper)), "currency", "currency must be an ISO 4217 code such as USD.");
        Check(FreshnessSlaSeconds is null || (double.IsFinite(FreshnessSlaSeconds.Value) && FreshnessSlaSeconds > 0), "freshnessSlaSeconds", "freshnessSlaSeconds must be a positive number.");
        Check(FreshnessSlaSeconds is null || kind is EntityKind.Pipeline or EntityKind.Dataset, "freshnessSlaSeconds", "freshnessSlaSeconds applies to pipelines and datasets.");
        Check(MaxErrorRate is null || MaxErrorRate is >= 0 and <= 1, "maxErrorRate", "maxErrorRate must be between 0 and 1.");
        Check(MaxErrorRate is null || kind == EntityKind.Model, "maxErrorRate", "maxErrorRate applies to models.");
        Check(MaxLatencyMs is null || (double.IsFinite(MaxLatencyMs.Value) && MaxLatencyMs > 0), "maxLatencyMs", "maxLatencyMs must be a positive number.");
        Check(MaxLatencyMs is null || kind == EntityKind.Model, "maxLatencyMs", "maxLatencyMs applies to models.");
        Check(MaxSilenceSeconds is null || MaxSilenceSeconds is >= 1 and <= 366 * 86400, "maxSilenceSeconds",
            "maxSilenceSeconds must be between 1 and 31622400 (a year).");
        Check(TimeZone is null || (TimeZone.Length <= 64 && TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _)), "timeZone",
            "timeZone must be an IANA time zone this server knows, such as Europe/Berlin or America/New_York.");
        Check(Labels is null || Labels.Count <= 32, "labels", "at most 32 labels.");
        Check(Labels is null || Labels.All(kv => kv.Key.Length is > 0 and <= Limits.MaxAttributeKeyLength && !kv.Key.Any(char.IsControl)
                                                && kv.Value is not null && kv.Value.Length <= Limits.MaxAttributeValueLength && !kv.Value.Any(char.IsControl)),
            "labels", $"label keys must be 1-{Limits.MaxAttributeKeyLength} characters and values at most {Limits.MaxAttributeValueLength}, without control characters.");
        return errors;
    }

    public EntityMetadata ToMetadata() => new()
    {
        Name = Name,
        Owner = Owner,
        Team = Team,
        Description = Description,
        CostCenterId = CostCenterId,
        TrainingPipelineId = TrainingPipelineId,
        MonthlyBudget = MonthlyBudget,
        Currency = Currency,
        FreshnessSlaSeconds = FreshnessSlaSeconds,
        MaxErrorRate = MaxErrorRate,
        MaxLatencyMs = MaxLatencyMs,
        Labels = Labels,
        MaxSilenceSeconds = MaxSilenceSeconds,
        TimeZone = TimeZone,
    };
}

public static class EntitiesApi
{
    public const int MaxPageSize = 1000;
    public const int MaxSeriesPoints = 5000;

    public static IEndpointRouteBuilder MapEntitiesApi(this IEndpointRouteBuilder app)
    {
        foreach (var info in EntityKinds.All) MapKind(app, info);
        return app;
    }

    private static void MapKind(IEndpointRouteBuilder app, EntityKindInfo info)
    {
        var kind = info.Kind;
        var singular = info.Singular;
        var name = info.Title;
        var tag = char.ToUpperInvariant(singular[0]) + singular[1..] + "s";
        var group = app.MapGroup($"/api/v1/{info.Plural}").WithTags(tag).RequireAuthorization(Security.Policies.Read);

        group.MapGet("/", (IClusterClient client, int? offset, int? limit) => ListAsync(client, kind, offset, limit))
            .WithName($"List{name}s").WithSummary($"List {singular}s with their digests (paged, by id)");
        group.MapGet("/{id}", (IClusterClient client, string id) => GetAsync(client, kind, id))
            .WithName($"Get{name}").WithSummary($"Get a {singular}'s summary");
        group.MapPut("/{id}", (IClusterClient client, string id, EntityMetadataRequest body) => PutAsync(client, kind, id, body))
            .WithName($"Put{name}").WithSummary($"Register a {singular} or replace its metadata")
            .RequireAuthorization(Security.Policies.Operate);
        group.MapGet("/{id}/metrics/{metric}", (IClusterClient client, string id, string metric, string? resolution, int? limit) =>
                SeriesAsync(client, kind, id, metric, resolution, limit))
            .WithName($"Get{name}Series").WithSummary($"A {singular} metric's recent series (raw, hour or day resolution; raw points carry their anomaly score)");
        group.MapGet("/{id}/anomalies", (IClusterClient client, string id, int? limit) => AnomaliesAsync(client, kind, id, limit))
            .WithName($"Get{name}Anomalies").WithSummary($"A {singular}'s open anomalies and the recent anomaly scores of each of its metrics");
        if (kind == EntityKind.CostCenter)
        {
            group.MapGet("/{id}/forecast", (IClusterClient client, TimeProvider time, string id, int? horizon) => ForecastAsync(client, time, id, horizon))
                .WithName("GetCostCenterForecast")
                .WithSummary("Hourly spend forecast with 80% and 95% prediction intervals, month-end spend and budget-breach outlook")
                .WithDescription("`horizon`: hours of forecast points to return (1-1488, default: to the end of the month). The month-end outlook always covers the whole month.");
        }
    }

    public sealed record MetricScores(string Metric, double? LastScore, IReadOnlyList<SeriesPoint> Recent);

    public sealed record AnomalyView(IReadOnlyList<OpenAnomaly> OpenAnomalies, IReadOnlyList<MetricScores> Metrics);

    private static async Task<Results<Ok<AnomalyView>, NotFound<ProblemDetails>, ValidationProblem>> AnomaliesAsync(IClusterClient client, EntityKind kind, string id, int? limit)
    {
        if (InvalidId(id) is { } invalid) return invalid;
        if (limit is < 1 or > 64)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["limit must be between 1 and 64."] });
        var grain = client.GetEntity(kind, id);
        var summary = await grain.GetSummaryAsync();
        if (summary.EventsApplied == 0 && !summary.Registered) return NotFound(kind, id);
        var metrics = new List<MetricScores>();
        foreach (var m in summary.Metrics)
        {
            var series = await grain.GetSeriesAsync(m.Name, SeriesResolution.Raw, limit ?? 20);
            var points = series?.Points ?? [];
            metrics.Add(new MetricScores(m.Name, points.LastOrDefault(p => p.AnomalyScore is not null)?.AnomalyScore, points));
        }
        return TypedResults.Ok(new AnomalyView(summary.OpenAnomalies, metrics));
    }

    private static async Task<Results<Ok<SpendForecast>, NotFound<ProblemDetails>, ValidationProblem, ProblemHttpResult>> ForecastAsync(IClusterClient client, TimeProvider time, string id, int? horizon)
    {
        if (InvalidId(id) is { } invalid) return invalid;
        if (horizon is < 1 or > 1488)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["horizon"] = ["horizon must be between 1 and 1488 hours."] });
        var grain = client.GetGrain<ICostCenterGrain>(id);
        var summary = await grain.GetSummaryAsync();
        if (summary.EventsApplied == 0 && !summary.Registered) return NotFound(EntityKind.CostCenter, id);
        var now = time.GetUtcNow().UtcDateTime;
        var toMonthEnd = (int)Math.Ceiling((new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1) - now).TotalHours);
        var result = await grain.GetForecastAsync(horizon ?? Math.Max(1, toMonthEnd));
        if (result.Forecast is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "No forecast yet", detail: result.Problem);
        return TypedResults.Ok(result.Forecast);
    }

    internal static ValidationProblem? InvalidId(string id) => Limits.IsValidId(id)
        ? null
        : TypedResults.ValidationProblem(new Dictionary<string, string[]>
        {
            ["id"] = [$"id must be 1-{Limits.MaxIdLength} characters of letters, digits and . _ - : @."],
        });

    private static async Task<Results<Ok<EntityPage>, ValidationProblem>> ListAsync(IClusterClient client, EntityKind kind, int? offset, int? limit)
    {
        var errors = new Dictionary<string, string[]>();
        if (offset < 0) errors["offset"] = ["offset must be ≥ 0."];
        if (limit is < 1 or > MaxPageSize) errors["limit"] = [$"limit must be between 1 and {MaxPageSize}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var page = await client.GetGrain<IValueGrain>(IValueGrain.DefaultKey).ListAsync(kind, offset ?? 0, limit ?? 100);
        return TypedResults.Ok(page);
    }

    private static async Task<Results<Ok<EntitySummary>, NotFound<ProblemDetails>, ValidationProblem>> GetAsync(IClusterClient client, EntityKind kind, string id)
    {
        if (InvalidId(id) is { } invalid) return invalid;
        var summary = await client.GetEntity(kind, id).GetSummaryAsync();
        if (summary.EventsApplied == 0 && !summary.Registered && summary.DuplicatesDropped == 0)
            return NotFound(kind, id);
        return TypedResults.Ok(summary);
    }

    private static async Task<Results<Ok<EntitySummary>, ValidationProblem>> PutAsync(IClusterClient client, EntityKind kind, string id, EntityMetadataRequest body)
    {
        if (InvalidId(id) is { } invalid) return invalid;
        var errors = body.Validate(kind);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The metadata was not accepted; nothing was changed.");
        return TypedResults.Ok(await client.GetEntity(kind, id).PutMetadataAsync(body.ToMetadata()));
    }

    private static async Task<Results<Ok<SeriesView>, NotFound<ProblemDetails>, ValidationProblem>> SeriesAsync(
        IClusterClient client, EntityKind kind, string id, string metric, string? resolution, int? limit)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Limits.IsValidId(id)) errors["id"] = ["id is not a valid entity id."];
        if (!Limits.IsValidMetricName(metric)) errors["metric"] = ["metric is not a valid metric name."];
        var res = SeriesResolution.Raw;
        if (resolution is not null && !Enum.TryParse(resolution, ignoreCase: true, out res))
            errors["resolution"] = ["resolution must be raw, hour or day."];
        if (limit is < 1 or > MaxSeriesPoints) errors["limit"] = [$"limit must be between 1 and {MaxSeriesPoints}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var view = await client.GetEntity(kind, id).GetSeriesAsync(metric, res, limit ?? 500);
        if (view is null)
        {
            return TypedResults.NotFound(new ProblemDetails
            {
                Status = 404,
                Title = "Unknown metric",
                Detail = $"{kind.ToWire()} '{id}' has no series '{metric}'.",
            });
        }
        return TypedResults.Ok(view);
    }

    internal static NotFound<ProblemDetails> NotFound(EntityKind kind, string id) => TypedResults.NotFound(new ProblemDetails
    {
        Status = 404,
        Title = "Unknown entity",
        Detail = $"No {kind.ToWire()} '{id}' has sent telemetry or been registered.",
    });
}
