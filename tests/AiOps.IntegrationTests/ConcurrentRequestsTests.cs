using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// "A 202 means applied" when requests for the same entities arrive at the same time. Concurrent requests share one
/// ingest-log record (group commit), so they share its log position; entities skip points at positions their state
/// already covers (that is how a replay after a crash does not apply anything twice). The points one record holds for
/// an entity must therefore reach it in one batch: when two requests of one record went out separately (a small one
/// published at once, the next one for the same entity with the following flush; or a flush taken while a record was
/// being handed over), the entity applied the first, and skipped the second as covered. Nothing was logged, the
/// streams counted every event as consumed, and the events were gone.
/// </summary>
public sealed class ConcurrentRequestsTests
{
    private static async Task<long> Applied(HttpClient client, string kind, string id) =>
        (await client.GetJsonOrNull($"/api/v1/{kind}s/{id}"))?["eventsApplied"]?.GetValue<long>() ?? 0;

    [Fact]
    public async Task SmallConcurrentRequestsForOneEntityAreAllApplied()
    {
        const int requests = 400;
        var data = TempDirectory.Create("aiops-concurrent");
        await using (var server = new AiOpsAppFactory(data))
        {
            var client = server.CreateClient();
            // One event per request, 32 at a time: each log write takes several of them (one record, one position).
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) is var i && i < requests)
                    await client.PostTelemetry(Event("pipeline", "p-same", "rows.in", i + 1, eventId: $"e-{i}"));
            }));
            await Eventually.Until(() => Applied(client, "pipeline", "p-same"), n => n == requests, TimeSpan.FromSeconds(30),
                because: "every acknowledged event is applied");
            await Task.Delay(500);
            Assert.Equal(requests, await Applied(client, "pipeline", "p-same"));
        }

        await using var again = new AiOpsAppFactory(data);
        var restarted = again.CreateClient();
        Assert.Equal(requests, await Applied(restarted, "pipeline", "p-same"));
    }

    [Fact]
    public async Task SmallConcurrentRequestsOverAFewEntitiesAreAllApplied()
    {
        // A record then holds requests that share an entity (they go out together) next to ones that share none with the
        // rest of the record (those may go out at once on their own).
        const int requests = 600, entities = 5;
        await using var server = new AiOpsAppFactory();
        var client = server.CreateClient();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var i && i < requests)
                await client.PostTelemetry(Event("costcenter", $"cc-{i % entities}", "cost", 1, eventId: $"e-{i}"));
        }));
        async Task<long> Total() => (await Task.WhenAll(Enumerable.Range(0, entities).Select(e => Applied(client, "costcenter", $"cc-{e}")))).Sum();
        await Eventually.Until(Total, n => n == requests, TimeSpan.FromSeconds(30), because: "every acknowledged event is applied");
        await Task.Delay(500);
        Assert.Equal(requests, await Total());
    }

    [Fact]
    public async Task ConcurrentRequestsOverManyEntitiesAreAllApplied()
    {
        // Requests of 100 events over the same 100 entities, 32 at a time: records of several requests, flushes that
        // can be taken while a record is being handed to the publisher. That split was rare (the ingest bench lost whole
        // requests about once in 100 million events; this test passed on the code that had it): the single-entity
        // test above is the one that fails without the fix; this one checks the flush path keeps every request.
        const int requests = 600, entities = 100;
        var data = TempDirectory.Create("aiops-concurrent-many");
        await using var server = new AiOpsAppFactory(data);
        var client = server.CreateClient();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var r && r < requests)
                await client.PostTelemetry(Enumerable.Range(0, entities)
                    .Select(e => Event("model", $"m-{e}", "predictions", 1, eventId: $"r{r}-{e}")).ToArray());
        }));
        async Task<long> Total() => (await Task.WhenAll(Enumerable.Range(0, entities).Select(e => Applied(client, "model", $"m-{e}")))).Sum();
        await Eventually.Until(Total, n => n == (long)requests * entities, TimeSpan.FromSeconds(60), because: "every acknowledged event is applied");
        await Task.Delay(500);
        Assert.Equal((long)requests * entities, await Total());
    }
}
