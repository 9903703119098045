using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiOps.IntegrationTests.Alerts;

/// <summary>
/// A real HTTP webhook receiver (Kestrel on 127.0.0.1, free port) that verifies every request's HMAC signature
/// the way a user's receiver would, can fail a share of requests at random or be "down" (503), and records
/// what it accepted, deduplicated by delivery id.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, JsonObject> _accepted = new();
    private long _requests;
    private long _failed;
    private long _duplicates;
    private long _badSignatures;

    private WebhookReceiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    /// <summary>Set after the subscription is created (the server shows the secret once).</summary>
    public string? Secret { get; set; }
    public double FailureRate { get; set; }
    public bool Down { get; set; }
    public long Requests => Interlocked.Read(ref _requests);
    public long Failed => Interlocked.Read(ref _failed);
    /// <summary>Requests answered 2xx for a delivery id already accepted (receiver-side dedupe drops them).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long BadSignatures => Interlocked.Read(ref _badSignatures);
    /// <summary>Accepted deliveries, one per delivery id: the parsed body.</summary>
    public IReadOnlyDictionary<string, JsonObject> Accepted => _accepted;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", (Delegate)receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address.TrimEnd('/') + "/hook";
        return receiver;
    }

    private async Task<IResult> HandleAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        if (Down || Random.Shared.NextDouble() < FailureRate)
        {
            Interlocked.Increment(ref _failed);
            return Results.StatusCode((int)HttpStatusCode.ServiceUnavailable);
        }

        // What a receiver does: recompute the HMAC over the raw body and compare in constant time.
        var signature = http.Request.Headers["X-AiOps-Signature"].ToString();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret ?? ""), body));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature), Encoding.ASCII.GetBytes(expected)))
        {
            Interlocked.Increment(ref _badSignatures);
            return Results.Unauthorized();
        }
        var deliveryId = http.Request.Headers["X-AiOps-Delivery"].ToString();
        var json = JsonNode.Parse(body)!.AsObject();
        json["_timestamp"] = http.Request.Headers["X-AiOps-Timestamp"].ToString();
        if (!_accepted.TryAdd(deliveryId, json)) Interlocked.Increment(ref _duplicates);
        return Results.NoContent();
    }

    /// <summary>Accepted deliveries for alerts on entities whose id starts with the prefix.</summary>
    public List<JsonObject> For(string entityPrefix) =>
        _accepted.Values.Where(j => ((string?)j["alert"]?["entityId"])?.StartsWith(entityPrefix, StringComparison.Ordinal) == true).ToList();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
