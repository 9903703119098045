using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using AiOps.Grains.Alerts;

namespace AiOps.Server.Alerting;

/// <summary>
/// POSTs webhook bodies with a dedicated client: no redirects (a 3xx is a failed attempt), a per-request
/// timeout, the response body never read (receivers are untrusted).
/// </summary>
internal sealed class HttpWebhookTransport(IHttpClientFactory clients) : IWebhookTransport
{
    public const string ClientName = "aiops-webhooks";

    public async Task<WebhookSendResult> SendAsync(string url, string body, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            foreach (var (k, v) in headers) request.Headers.TryAddWithoutValidation(k, v);
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            return new WebhookSendResult(status, response.IsSuccessStatusCode ? null : $"HTTP {status}", Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            var error = ex is HttpRequestException h ? $"{h.HttpRequestError}: {h.Message}" : "timeout";
            return new WebhookSendResult(null, error, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
