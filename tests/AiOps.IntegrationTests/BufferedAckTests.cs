using System.Net;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// Embedded mode answers ingestion requests once their events are in the publisher's buffer. The buffer is bounded:
/// a request that does not fit waits for the next flush, and past its wait limit gets 503 with nothing applied.
/// The flush here is held back (the publisher looks at its buffer every 5 s, and a message budget of 1/s) so
/// that the buffer stays full meanwhile.
/// </summary>
public sealed class BufferedAckTests
{
    private static AiOpsAppFactory App(TimeSpan bufferWait) => new(settings: new Dictionary<string, string?>
    {
        ["AiOps:Ingestion:MaxBufferedEvents"] = "100",
        // 5 s: the second request must arrive while the buffer is still full, which a test process starved by another
        // suite on the same 2 cores once missed with 1.5 s.
        ["AiOps:Ingestion:BufferedMaxFlushDelay"] = "00:00:05",
        ["AiOps:Ingestion:StreamMessagesPerSecondBudget"] = "1",
        ["AiOps:Ingestion:MinFlushDelay"] = "00:00:05",
        ["AiOps:Ingestion:BufferWaitTimeout"] = bufferWait.ToString(),
    });

    private static JsonObjectArray Batch(string prefix, int events) =>
        new(Enumerable.Range(0, events).Select(i => Event("pipeline", $"{prefix}-{i}", "rows.out", i + 1, DateTimeOffset.UtcNow.AddMinutes(-1))).ToArray());

    public sealed record JsonObjectArray(System.Text.Json.Nodes.JsonObject[] Events);

    [Fact]
    public async Task ARequestThatDoesNotFitWaitsForTheFlushAndThenBothAreApplied()
    {
        await using var app = App(TimeSpan.FromSeconds(20));
        var client = app.CreateClient();
        var first = await client.PostAsync("/api/v1/telemetry", Body(Batch("fit-a", 100).Events));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode); // answered from the buffer, before any flush

        var second = await client.PostAsync("/api/v1/telemetry", Body(Batch("fit-b", 60).Events));
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);

        foreach (var (prefix, n) in new[] { ("fit-a", 100), ("fit-b", 60) })
        {
            for (var i = 0; i < n; i += 17)
                await Eventually.Until(() => client.GetJsonOrNull($"/api/v1/pipelines/{prefix}-{i}"), j => j?["eventsApplied"]?.GetValue<long>() == 1);
        }
    }

    [Fact]
    public async Task ARequestThatFindsTheBufferFullPastItsWaitGets503AndNothingOfItIsApplied()
    {
        await using var app = App(TimeSpan.FromMilliseconds(100));
        var client = app.CreateClient();
        var first = await client.PostAsync("/api/v1/telemetry", Body(Batch("full-a", 100).Events));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);

        var second = await client.PostAsync("/api/v1/telemetry", Body(Batch("full-b", 50).Events));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.Contains("buffer", (string)(await second.ReadJson())["detail"]!);

        // The first request's events arrive with the (late) flush; the refused one's never do.
        await Eventually.Until(() => client.GetJsonOrNull("/api/v1/pipelines/full-a-99"), j => j?["eventsApplied"]?.GetValue<long>() == 1);
        await Task.Delay(2000);
        Assert.Null(await client.GetJsonOrNull("/api/v1/pipelines/full-b-0"));
    }
}
