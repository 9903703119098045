using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;
using AiOps.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.IntegrationTests.Alerts;

/// <summary>Short alerting intervals so that lifecycle, retry and expiry tests run in seconds.</summary>
public static class AlertSettings
{
    public static Dictionary<string, string?> Fast(Dictionary<string, string?>? extra = null)
    {
        var s = new Dictionary<string, string?>
        {
            ["AiOps:Alerts:AutoResolveAfter"] = "00:00:01",
            ["AiOps:Alerts:PersistInterval"] = "00:00:00.200",
            ["AiOps:Alerts:IndexFlushInterval"] = "00:00:00.100",
            ["AiOps:Alerts:IndexPersistInterval"] = "00:00:00.500",
            ["AiOps:Alerts:Webhooks:RetryBase"] = "00:00:00.050",
            ["AiOps:Alerts:Webhooks:RetryMax"] = "00:00:00.400",
            ["AiOps:Alerts:Webhooks:Timeout"] = "00:00:05",
            // The test receivers listen on loopback, which webhooks may reach only when an administrator allows it.
            ["AiOps:Alerts:Webhooks:AllowedInternalNetworks:0"] = "127.0.0.0/8",
            ["AiOps:Alerts:Feed:Heartbeat"] = "00:00:01",
            ["AiOps:Alerts:Feed:MaintenanceInterval"] = "00:00:01",
        };
        if (extra is not null) foreach (var (k, v) in extra) s[k] = v;
        return s;
    }
}

/// <summary>One server for the alerting tests of a class.</summary>
public sealed class AlertTestApp : IAsyncLifetime
{
    public AiOpsAppFactory Factory { get; } = new(settings: AlertSettings.Fast());
    public HttpClient Client { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Client = Factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}

public static class AlertTestExtensions
{
    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public static AlertSignal Firing(string entityId, double score = 0.9, EntityKind kind = EntityKind.Model, string metric = "latency_ms",
        AlertKind alertKind = AlertKind.MetricAnomaly, double value = 250, double? moneyAtRisk = null) => new()
    {
        EntityKind = kind,
        EntityId = entityId,
        Metric = metric,
        Kind = alertKind,
        Firing = true,
        At = DateTime.UtcNow,
        Score = score,
        Value = value,
        Expected = 40,
        MoneyAtRisk = moneyAtRisk,
        Summary = $"{metric} anomalous on {entityId}",
    };

    public static AlertSignal Normal(string entityId, EntityKind kind = EntityKind.Model, string metric = "latency_ms", AlertKind alertKind = AlertKind.MetricAnomaly) =>
        Firing(entityId, 0, kind, metric, alertKind, 40) with { Firing = false };

    /// <summary>What an entity grain does: one-way signals to the ingress.</summary>
    public static Task Signal(this AiOpsAppFactory factory, params AlertSignal[] signals) =>
        factory.Services.GetRequiredService<IClusterClient>().GetGrain<IAlertIngressGrain>(0).SignalAsync(signals);

    public static async Task<JsonArray> ListAlerts(this HttpClient client, string query)
    {
        var page = await client.GetJsonOrNull($"/api/v1/alerts?{query}") ?? throw new InvalidOperationException($"list failed: {query}");
        return page["items"]!.AsArray();
    }

    /// <summary>Waits for the alerts of an entity to satisfy a condition (the index is updated asynchronously).</summary>
    public static async Task<JsonArray> AlertsOf(this HttpClient client, string entityId, Func<JsonArray, bool> condition) =>
        await Eventually.Until(() => client.ListAlerts($"entityId={entityId}"), condition, because: $"alerts of {entityId}");

    public static async Task<JsonNode> Alert(this HttpClient client, string id) =>
        await client.GetJsonOrNull($"/api/v1/alerts/{id}") ?? throw new InvalidOperationException($"no alert {id}");

    public static async Task<(string Id, string Secret)> Subscribe(this HttpClient client, WebhookReceiver receiver, object filters)
    {
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(filters, Telemetry.Json))!.AsObject();
        body["url"] = receiver.Url;
        var r = await client.PostAsJsonAsync("/api/v1/webhooks", body);
        Assert.True(r.IsSuccessStatusCode, $"subscribe failed: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        var j = await r.ReadJson();
        var secret = (string)j["secret"]!;
        receiver.Secret = secret;
        return ((string)j["subscription"]!["id"]!, secret);
    }
}
