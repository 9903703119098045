using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using AiOps.IntegrationTests.Infrastructure;
using AiOps.Server.Alerting;
using Microsoft.Extensions.DependencyInjection;
using static AiOps.IntegrationTests.Alerts.AlertTestExtensions;

namespace AiOps.IntegrationTests.Alerts;

public sealed class AlertStreamTests(AlertTestApp app) : IClassFixture<AlertTestApp>
{
    private sealed record SseEvent(string? Id, string? Event, JsonNode? Data);

    /// <summary>Opens the stream and parses events into a channel until the token is cancelled.</summary>
    private static async Task<(HttpResponseMessage Response, ChannelReader<SseEvent> Events)> Open(HttpClient client, string query, CancellationToken ct, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/alerts/stream?{query}");
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var channel = Channel.CreateUnbounded<SseEvent>();
        if (!response.IsSuccessStatusCode) return (response, channel.Reader);
        _ = Task.Run(async () =>
        {
            try
            {
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
                string? id = null, ev = null, data = null;
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    if (line.Length == 0)
                    {
                        if (data is not null) channel.Writer.TryWrite(new SseEvent(id, ev, JsonNode.Parse(data)));
                        id = ev = data = null;
                    }
                    else if (line.StartsWith("id: ")) id = line[4..];
                    else if (line.StartsWith("event: ")) ev = line[7..];
                    else if (line.StartsWith("data: ")) data = line[6..];
                    else if (line.StartsWith(':')) channel.Writer.TryWrite(new SseEvent(null, "comment", JsonValue.Create(line)));
                }
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        }, CancellationToken.None);
        return (response, channel.Reader);
    }

    private static async Task<SseEvent> Next(ChannelReader<SseEvent> events, Func<SseEvent, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in events.ReadAllAsync(timeout.Token))
        {
            if (match(e)) return e;
        }
        throw new InvalidOperationException("stream ended");
    }

    private async Task FeedReady() =>
        await Eventually.Until(() => Task.FromResult(app.Factory.Services.GetRequiredService<AlertFeedHub>().Registered), r => r);

    [Fact]
    public async Task ALiveFeedClientReceivesTheAlertEventsOfASignalAndAnAcknowledgement()
    {
        await FeedReady();
        var entity = NewId("sse");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var reader = await app.Factory.CreateClientWithRoleAsync("reader");
        reader.Timeout = Timeout.InfiniteTimeSpan;
        var (response, events) = await Open(reader, $"entityId={entity}&kind=metricAnomaly,spendAnomaly", cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        await app.Factory.Signal(Firing($"{entity}-other"), Firing(entity, score: 0.99)); // the first is filtered out
        var opened = await Next(events, e => e.Event == "alert");
        Assert.Equal("opened", (string)opened.Data!["type"]!);
        Assert.Equal(entity, (string)opened.Data["alert"]!["entityId"]!);
        Assert.Equal(opened.Id, (string)opened.Data["eventId"]!);

        var alertId = (string)opened.Data["alert"]!["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await app.Client.PostAsJsonAsync($"/api/v1/alerts/{alertId}/ack", new { reason = "on it" })).StatusCode);
        var acked = await Next(events, e => e.Event == "alert");
        Assert.Equal("acknowledged", (string)acked.Data!["type"]!);
        Assert.Equal("on it", (string)acked.Data["text"]!);
        await Next(events, e => e.Event == "comment" && e.Data!.ToString().Contains("heartbeat")); // heartbeat every second in tests

        // Reconnecting with Last-Event-ID replays what came after it.
        var (_, replayed) = await Open(reader, $"entityId={entity}", cts.Token, lastEventId: opened.Id);
        var first = await Next(replayed, e => e.Event == "alert");
        Assert.Equal(acked.Id, first.Id);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task TheStreamNeedsAReadKeyAndValidFilters()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var (anonymous, _) = await Open(app.Factory.CreateAnonymousClient(), "", cts.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var (ingest, _) = await Open(await app.Factory.CreateClientWithRoleAsync("ingest"), "", cts.Token);
        Assert.Equal(HttpStatusCode.Forbidden, ingest.StatusCode);
        var (bad, _) = await Open(app.Client, "minSeverity=urgent", cts.Token);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotNull((await bad.ReadJson())["errors"]!["minSeverity"]);
        await cts.CancelAsync();
    }
}
