using AiOps.Abstractions.Alerts;
using AiOps.Grains.Alerts;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Alerting;

public static class AlertingExtensions
{
    /// <summary>Alerting: options, metrics, the webhook HTTP client, the live feed hub and the maintenance service.</summary>
    public static WebApplicationBuilder AddAiOpsAlerting(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<AlertingOptions>(builder.Configuration.GetSection(AlertingOptions.Section));
        services.Configure<AlertFeedOptions>(builder.Configuration.GetSection(AlertFeedOptions.Section));
        services.AddSingleton<AlertingMetrics>();
        services.AddSingleton(sp => new WebhookTargetPolicy(sp.GetRequiredService<IOptions<AlertingOptions>>().Value.Webhooks.AllowedInternalNetworks));

        services.AddHttpClient(HttpWebhookTransport.ClientName, (sp, client) =>
            {
                client.Timeout = sp.GetRequiredService<IOptions<AlertingOptions>>().Value.Webhooks.Timeout;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("AiOps-Webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // Every connection goes through the target policy: internal addresses are never dialled unless allowed.
                ConnectCallback = sp.GetRequiredService<WebhookTargetPolicy>().ConnectAsync,
                AllowAutoRedirect = false,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = 32,
                UseCookies = false,
            });
        services.AddSingleton<IWebhookTransport, HttpWebhookTransport>();

        services.AddSingleton<AlertFeedHub>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertFeedHub>());
        services.AddSingleton<ILocalAlertFeed>(sp => sp.GetRequiredService<AlertFeedHub>());
        services.AddHostedService<AlertingMaintenanceService>();
        return builder;
    }
}
