using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AiOps.Server.Apis;

public sealed record SilenceMatcherRequest(string? Field, string? Value);

/// <summary>A new silence. <c>expiresAt</c> is required; <c>startsAt</c> defaults to now.</summary>
public sealed record CreateSilenceRequest(
    List<SilenceMatcherRequest>? Matchers,
    string? Reason,
    DateTimeOffset? StartsAt,
    DateTimeOffset? ExpiresAt,
    string? CreatedBy);

public sealed record SilenceView(
    string Id,
    IReadOnlyList<SilenceMatcher> Matchers,
    string CreatedBy,
    string Reason,
    DateTime CreatedAt,
    DateTime StartsAt,
    DateTime ExpiresAt,
    DateTime? EndedAt,
    string? EndedBy,
    string Status)
{
    public static SilenceView Of(Silence s, DateTime now) =>
        new(s.Id, s.Matchers, s.CreatedBy, s.Reason, s.CreatedAt, s.StartsAt, s.ExpiresAt, s.EndedAt, s.EndedBy, s.StatusAt(now));
}

public static class SilencesApi
{
    public const int MaxMatchers = 8;
    public const int MaxReasonLength = 1000;
    public const int MaxActiveSilences = 1000;
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(90);

    public static IEndpointRouteBuilder MapSilencesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/silences").WithTags("Silences");
        group.MapPost("/", CreateAsync)
            .WithName("CreateSilence")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("Silence matching alerts (recorded, flagged silenced, not notified) until expiresAt (at most 90 days)")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/", ListAsync)
            .WithName("ListSilences")
            .RequireAuthorization(Policies.Read)
            .WithSummary("List silences with their status (pending, active, expired)")
            .ProducesValidationProblem();
        group.MapGet("/{id}", GetAsync)
            .WithName("GetSilence")
            .RequireAuthorization(Policies.Read)
            .WithSummary("One silence with its status")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", EndAsync)
            .WithName("EndSilence")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("End a silence now (it stays listed as expired)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Results<Created<SilenceView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext http, IClusterClient client, TimeProvider time, CreateSilenceRequest body)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var errors = new Dictionary<string, string[]>();
        var matchers = new List<SilenceMatcher>();
        if (body.Matchers is not { Count: > 0 }) errors["matchers"] = ["At least one matcher is required (use {\"field\":\"entityId\",\"value\":\"*\"} to match everything)."];
        else if (body.Matchers.Count > MaxMatchers) errors["matchers"] = [$"At most {MaxMatchers} matchers."];
        else
        {
            for (var i = 0; i < body.Matchers.Count; i++)
            {
                var m = body.Matchers[i];
                var path = $"matchers[{i}]";
                if (m is null || m.Field is null || !AlertQueryParsing.TryParseEnum<MatcherField>(m.Field, out var field))
                {
                    errors[$"{path}.field"] = [$"field must be one of {AlertQueryParsing.Names<MatcherField>()}."];
                    continue;
                }
                if (m.Value is null || !IsValidMatcherValue(field, m.Value))
                {
                    errors[$"{path}.value"] = [field switch
                    {
                        MatcherField.EntityKind => "value must be pipeline, model, costcenter or a glob with *.",
                        MatcherField.Kind => $"value must be one of {AlertQueryParsing.Names<AlertKind>()} or a glob with *.",
                        _ => $"value must be 1-{AlertQueryParsing.MaxPatternLength} characters of letters, digits, . _ - : @ and the wildcard *.",
                    }];
                    continue;
                }
                var value = field switch
                {
                    MatcherField.EntityKind when EntityKinds.TryParse(m.Value, out var ek) => ek.ToWire(),
                    MatcherField.Kind when AlertQueryParsing.TryParseEnum<AlertKind>(m.Value, out var k) => k.ToString(),
                    _ => m.Value,
                };
                matchers.Add(new SilenceMatcher(field, value));
            }
        }
        if (string.IsNullOrWhiteSpace(body.Reason)) errors["reason"] = ["reason is required."];
        else if (body.Reason.Length > MaxReasonLength || body.Reason.Any(c => char.IsControl(c) && c is not '\n' and not '\t'))
            errors["reason"] = [$"reason must be at most {MaxReasonLength} characters."];
        if (body.CreatedBy is { } by && (by.Length > AlertsApi.MaxActorLength || by.Any(char.IsControl)))
            errors["createdBy"] = [$"createdBy must be at most {AlertsApi.MaxActorLength} characters."];
        var starts = body.StartsAt?.UtcDateTime ?? now;
        if (body.ExpiresAt is null) errors["expiresAt"] = ["expiresAt is required."];
        else
        {
            var expires = body.ExpiresAt.Value.UtcDateTime;
            if (expires <= now) errors["expiresAt"] = ["expiresAt must be in the future."];
            else if (expires <= starts) errors["expiresAt"] = ["expiresAt must be after startsAt."];
            else if (expires - starts > MaxDuration) errors["expiresAt"] = [$"A silence lasts at most {MaxDuration.TotalDays:0} days."];
        }
        if (body.StartsAt is not null && starts > now + MaxDuration) errors["startsAt"] = [$"startsAt must be within {MaxDuration.TotalDays:0} days."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The silence was not created.");

        var routing = client.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey);
        var existing = await routing.ListSilencesAsync();
        if (existing.Count(s => s.EffectiveEnd > now) >= MaxActiveSilences)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "Too many silences",
                Detail = $"At most {MaxActiveSilences} active or pending silences; end some first.",
            });
        }
        var silence = await routing.AddSilenceAsync(new Silence
        {
            Id = SortableId.New(now),
            Matchers = matchers,
            CreatedBy = AlertsApi.ActorOf(http, body.CreatedBy),
            Reason = body.Reason!.Trim(),
            CreatedAt = now,
            StartsAt = starts,
            ExpiresAt = body.ExpiresAt!.Value.UtcDateTime,
        });
        return TypedResults.Created($"/api/v1/silences/{silence.Id}", SilenceView.Of(silence, now));
    }

    private static bool IsValidMatcherValue(MatcherField field, string value)
    {
        if (!AlertQueryParsing.IsValidPattern(value)) return false;
        if (value.Contains('*')) return true;
        return field switch
        {
            MatcherField.EntityKind => EntityKinds.TryParse(value, out _),
            MatcherField.Kind => AlertQueryParsing.TryParseEnum<AlertKind>(value, out _),
            _ => true,
        };
    }

    private static async Task<Results<Ok<SilenceView[]>, ValidationProblem>> ListAsync(IClusterClient client, TimeProvider time, string? status)
    {
        string[] allowed = ["active", "pending", "expired", "all"];
        if (status is not null && !allowed.Contains(status, StringComparer.OrdinalIgnoreCase))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["status"] = ["status must be active, pending, expired or all."] });
        var now = time.GetUtcNow().UtcDateTime;
        var all = await client.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).ListSilencesAsync();
        var views = all.Select(s => SilenceView.Of(s, now))
            .Where(v => status is null || status.Equals("all", StringComparison.OrdinalIgnoreCase) || v.Status.Equals(status, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(v => v.Id, StringComparer.Ordinal)
            .ToArray();
        return TypedResults.Ok(views);
    }

    private static async Task<Results<Ok<SilenceView>, ProblemHttpResult>> GetAsync(IClusterClient client, TimeProvider time, string id)
    {
        var all = await client.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).ListSilencesAsync();
        var s = all.FirstOrDefault(x => x.Id == id);
        return s is null ? NotFound(id) : TypedResults.Ok(SilenceView.Of(s, time.GetUtcNow().UtcDateTime));
    }

    private static async Task<Results<Ok<SilenceView>, ProblemHttpResult>> EndAsync(HttpContext http, IClusterClient client, TimeProvider time, string id)
    {
        if (id.Length > 64) return NotFound(id[..64]);
        var ended = await client.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).EndSilenceAsync(id, AlertsApi.ActorOf(http, null));
        return ended is null ? NotFound(id) : TypedResults.Ok(SilenceView.Of(ended, time.GetUtcNow().UtcDateTime));
    }

    private static ProblemHttpResult NotFound(string id) => TypedResults.Problem(new ProblemDetails
    {
        Status = 404,
        Title = "Unknown silence",
        Detail = $"No silence '{id}'.",
    });
}
