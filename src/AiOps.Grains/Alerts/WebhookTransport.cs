namespace AiOps.Grains.Alerts;

/// <summary>Outcome of one HTTP POST to a webhook receiver. The response body is never read.</summary>
public readonly record struct WebhookSendResult(int? StatusCode, string? Error, double ElapsedMs)
{
    public bool Delivered => StatusCode is >= 200 and < 300;
}

/// <summary>Sends one signed webhook request (implemented by the server over IHttpClientFactory).</summary>
public interface IWebhookTransport
{
    Task<WebhookSendResult> SendAsync(string url, string body, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken);
}
