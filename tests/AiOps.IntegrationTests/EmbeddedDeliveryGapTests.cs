using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Configuration;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// Embedded mode delivers logged batches to the entity grains through Orleans persistent streams. When delivering a
/// batch keeps failing for longer than the pulling agent's maximum delivery time (a grain that stays busy or times
/// out under overload), the agent gives the batch up and moves on to the next one. The promise "a 202 means applied"
/// must still hold: the given-up batch's events are delivered again from the ingest log, whether later batches for
/// the same entity follow (and would otherwise cover its log position) or not, and still count after a restart.
/// The failure is injected by a grain call filter the test host adds: stream deliveries to one entity throw while
/// the fault is on; nothing else in the server is changed.
/// </summary>
[Collection(AloneCollection.Name)] // asserts on its server's /metrics
public sealed class EmbeddedDeliveryGapTests
{
    private const string Entity = "p-gap";

    /// <summary>Fails every stream delivery to the entity whose key is <see cref="FailingKey"/> (null: none).</summary>
    private sealed class StreamDeliveryFault : IIncomingGrainCallFilter
    {
        public volatile string? FailingKey;
        private int _failed;

        public int Failed => Volatile.Read(ref _failed);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (FailingKey is { } key && context.InterfaceName.Contains("StreamConsumerExtension", StringComparison.Ordinal)
                && context.TargetId.Key.ToString() == key)
            {
                Interlocked.Increment(ref _failed);
                throw new TimeoutException($"Test fault: stream delivery to {key} fails.");
            }
            return context.Invoke();
        }
    }

    private static AiOpsAppFactory Server(string data, StreamDeliveryFault? fault = null, IDictionary<string, string?>? settings = null) =>
        new(data, settings, services =>
        {
            if (fault is null) return;
            services.AddSingleton<IIncomingGrainCallFilter>(fault);
            // The agent's default is one minute of retries before it gives a batch up; the test does not wait that long.
            services.PostConfigure<StreamPullingAgentOptions>(AiOps.Abstractions.StreamNames.Provider, o => o.MaxEventDeliveryTime = TimeSpan.FromSeconds(2));
        });

    private static JsonObject[] Events(int from, int count) =>
        Enumerable.Range(from, count).Select(i => Event("pipeline", Entity, "rows.in", i + 1)).ToArray();

    private static async Task<long> Applied(HttpClient client) =>
        (await client.GetJsonOrNull($"/api/v1/pipelines/{Entity}"))?["eventsApplied"]?.GetValue<long>() ?? 0;

    /// <summary>Sends 10 events, then 10 while stream delivery to the entity fails until the agent gives them up.</summary>
    private static async Task SkipOneBatchAsync(AiOpsAppFactory server, HttpClient client, StreamDeliveryFault fault)
    {
        await client.PostTelemetry(Events(0, 10));
        await Eventually.Until(() => Applied(client), n => n == 10, because: "the first batch is applied normally");
        // This server's own count (/metrics of a test process also carries the instruments of the other servers in it).
        var handler = server.Services.GetRequiredService<AiOps.Server.Streaming.LoggingStreamFailureHandler>();
        var skippedBefore = handler.DeliveryFailures;

        fault.FailingKey = Entity;
        await client.PostTelemetry(Events(10, 10)); // answered 202: in the ingest log
        await Eventually.Until(() => Task.FromResult(handler.DeliveryFailures), n => n > skippedBefore, TimeSpan.FromSeconds(60),
            because: "the pulling agent gives the batch up after its maximum delivery time");
        Assert.Contains("aiops_telemetry_stream_batches_skipped_total", await client.GetStringAsync("/metrics"));
        fault.FailingKey = null;
        Assert.True(fault.Failed > 0);
    }

    [Fact]
    public async Task ABatchTheStreamGaveUpIsAppliedWhenLaterBatchesForTheSameEntityFollow()
    {
        var data = TempDirectory.Create("aiops-gap");
        var fault = new StreamDeliveryFault();
        await using (var server = Server(data, fault))
        {
            var client = server.CreateClient();
            await SkipOneBatchAsync(server, client, fault);
            Assert.Equal(10, await Applied(client)); // the given-up batch was not applied by the stream

            // A later batch for the same entity: its log position is past the given-up one.
            await client.PostTelemetry(Events(20, 10));
            await Eventually.Until(() => Applied(client), n => n == 30, TimeSpan.FromSeconds(30),
                because: "every acknowledged event is applied, the given-up batch included");
            await Task.Delay(500);
            Assert.Equal(30, await Applied(client)); // and none twice
            // The re-delivery came from the ingest log and is counted where the README says.
            Assert.True(server.Services.GetRequiredService<AiOps.Server.Ingestion.Durability.LogDelivery>().Repaired > 0);
            Assert.Contains("aiops_ingest_log_redelivered_entities_total", await client.GetStringAsync("/metrics"));
        }

        await using var again = Server(data);
        var restarted = again.CreateClient();
        await Eventually.Until(() => Applied(restarted), n => n == 30, because: "after a restart");
        await Task.Delay(500);
        Assert.Equal(30, await Applied(restarted));
    }

    [Fact]
    public async Task ABatchTheStreamGaveUpIsAppliedEvenWhenNothingFollowsForThatEntity()
    {
        var data = TempDirectory.Create("aiops-gap-last");
        var fault = new StreamDeliveryFault();
        // Entities whose last delivery is older than this and not covered by what they applied are asked (default 45 s).
        var settings = new Dictionary<string, string?>
        {
            ["AiOps:Ingestion:QuietEntityCheckPeriod"] = "00:00:01",
            ["AiOps:Ingestion:QuietEntityAge"] = "00:00:15", // well after the agent gave the batch up (~3 s)
        };
        await using (var server = Server(data, fault, settings))
        {
            var client = server.CreateClient();
            await SkipOneBatchAsync(server, client, fault);
            Assert.Equal(10, await Applied(client));
            await Eventually.Until(() => Applied(client), n => n == 20, TimeSpan.FromSeconds(30),
                because: "the given-up batch is delivered again from the ingest log");
            await Task.Delay(500);
            Assert.Equal(20, await Applied(client));
        }

        await using var again = Server(data);
        var restarted = again.CreateClient();
        await Eventually.Until(() => Applied(restarted), n => n == 20, because: "after a restart");
        await Task.Delay(500);
        Assert.Equal(20, await Applied(restarted));
    }
}
