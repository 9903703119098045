using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.Grains.Alerts;
using AiOps.Server.Alerting;
using AiOps.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Apis;

/// <summary>A new webhook subscription. Filters left out match everything.</summary>
public sealed record CreateWebhookRequest(
    string? Url,
    List<string>? Kinds,
    string? MinSeverity,
    string? EntityKind,
    string? EntityId,
    string? Description);

public sealed record WebhookView(
    string Id,
    string Url,
    AlertKind[]? Kinds,
    AlertSeverity MinSeverity,
    EntityKind? EntityKind,
    string? EntityId,
    string? Description,
    string CreatedBy,
    DateTime CreatedAt,
    OutboxStatus? Outbox)
{
    public static WebhookView Of(WebhookSubscription s, OutboxStatus? outbox = null) =>
        new(s.Id, s.Url, s.Kinds, s.MinSeverity, s.EntityKind, s.EntityId, s.Description, s.CreatedBy, s.CreatedAt, outbox);
}

/// <summary>Creation reply: the only time the signing secret is shown.</summary>
public sealed record CreatedWebhookView(WebhookView Subscription, string Secret, string SignatureHeader, string Algorithm);

public static class WebhooksApi
{
    public const int MaxUrlLength = 2048;
    public const int MaxDescriptionLength = 500;

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/webhooks").WithTags("Webhooks");
        group.MapPost("/", CreateAsync)
            .WithName("CreateWebhook")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("Subscribe a URL to alert events; the reply carries the signing secret, shown only this once")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/", ListAsync)
            .WithName("ListWebhooks")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("List webhook subscriptions (without secrets)");
        group.MapGet("/{id}", GetAsync)
            .WithName("GetWebhook")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("One webhook subscription with its outbox status (pending, delivered, given up)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteWebhook")
            .RequireAuthorization(Policies.Operate)
            .WithSummary("Delete a subscription and drop its pending deliveries")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Results<Created<CreatedWebhookView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext http, IClusterClient client, IOptions<AlertingOptions> options, WebhookTargetPolicy targets, TimeProvider time, CreateWebhookRequest body)
    {
        var errors = new Dictionary<string, string[]>();
        Uri? uri = null;
        if (string.IsNullOrWhiteSpace(body.Url)) errors["url"] = ["url is required."];
        else if (body.Url.Length > MaxUrlLength) errors["url"] = [$"url must be at most {MaxUrlLength} characters."];
        else if (!Uri.TryCreate(body.Url, UriKind.Absolute, out uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            errors["url"] = ["url must be an absolute http or https URL."];
        else if (uri.UserInfo.Length > 0) errors["url"] = ["url must not carry credentials (user:password@)."];
        else if (uri.Fragment.Length > 0) errors["url"] = ["url must not have a fragment."];

        AlertKind[]? kinds = null;
        if (body.Kinds is { Count: > 0 })
            kinds = AlertQueryParsing.ParseList<AlertKind>(string.Join(',', body.Kinds.Select(k => k?.Replace(",", " ") ?? "")), "kinds", errors);
        var min = AlertQueryParsing.ParseOne<AlertSeverity>(body.MinSeverity, "minSeverity", errors) ?? AlertSeverity.Low;
        var ek = AlertQueryParsing.ParseEntityKind(body.EntityKind, errors);
        AlertQueryParsing.CheckGlob(body.EntityId, "entityId", errors);
        if (body.Description is { } d && (d.Length > MaxDescriptionLength || d.Any(char.IsControl)))
            errors["description"] = [$"description must be at most {MaxDescriptionLength} characters without control characters."];
        // Checked last: it may resolve the host name, which is not worth doing for a request refused anyway.
        if (errors.Count == 0 && await targets.CheckAsync(uri!, http.RequestAborted) is { } refused) errors["url"] = [refused];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The subscription was not created.");

        var subscription = new WebhookSubscription
        {
            Id = SortableId.New(),
            Url = uri!.AbsoluteUri,
            Secret = WebhookPayload.NewSecret(),
            Kinds = kinds?.Distinct().ToArray(),
            MinSeverity = min,
            EntityKind = ek,
            EntityId = body.EntityId,
            Description = body.Description,
            CreatedBy = AlertsApi.ActorOf(http, null),
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        var max = options.Value.Webhooks.MaxSubscriptions;
        var added = await client.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).AddSubscriptionAsync(subscription, max);
        if (added is null)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "Too many webhook subscriptions",
                Detail = $"At most {max} subscriptions; delete one first.",
            });
        }
        return TypedResults.Created($"/api/v1/webhooks/{added.Id}",
            new CreatedWebhookView(WebhookView.Of(added), added.Secret, WebhookPayload.SignatureHeader, "HMAC-SHA256 over the raw request body, hex, prefixed sha256="));
    }

    private static async Task<Ok<WebhookView[]>> ListAsync(IClusterClient client)
    {
        var all = await client.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).ListSubscriptionsAsync();
        return TypedResults.Ok(all.Select(s => WebhookView.Of(s)).ToArray());
    }

    private static async Task<Results<Ok<WebhookView>, ProblemHttpResult>> GetAsync(IClusterClient client, string id)
    {
        var s = await client.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).GetSubscriptionAsync(id);
        if (s is null) return NotFound(id);
        var status = await client.GetGrain<IWebhookOutboxGrain>(s.Id).GetStatusAsync();
        return TypedResults.Ok(WebhookView.Of(s, status));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(IClusterClient client, string id)
    {
        if (id.Length > 64) return NotFound(id[..64]);
        var removed = await client.GetGrain<IAlertRoutingGrain>(IAlertRoutingGrain.DefaultKey).RemoveSubscriptionAsync(id);
        return removed ? TypedResults.NoContent() : NotFound(id);
    }

    private static ProblemHttpResult NotFound(string id) => TypedResults.Problem(new ProblemDetails
    {
        Status = 404,
        Title = "Unknown webhook subscription",
        Detail = $"No webhook subscription '{id}'.",
    });
}
