using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using AiOps.Abstractions;
using Orleans;

namespace AiOps.Bench;

/// <summary>
/// End-to-end ingestion: HTTP batches (default 1,000 events per request spread over 1,000 entities)
/// until every entity grain's summary reflects every event, versus a no-op endpoint that only reads and
/// parses the same payloads. The load generator runs in the same process, on the same 2 cores.
/// </summary>
public static class IngestBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        if (args.Get("compare-ack") is null)
        {
            await RunOnceAsync(args, args.Get("ack"));
            return 0;
        }
        // Durable ingest log (the embedded default) versus answering from the memory buffer (no durability across
        // a crash), one after the other in this process; the buffered run goes second, with the warmer JIT.
        var logged = await RunOnceAsync(args, "Logged");
        var buffered = await RunOnceAsync(args, "Buffered");
        Console.WriteLine();
        Console.WriteLine($"A/B, end to end medians: Logged {logged.Real,12:N0} events/s (parse-only {logged.Noop:N0}); Buffered {buffered.Real,12:N0} events/s (parse-only {buffered.Noop:N0})");
        Console.WriteLine($"Logged / Buffered: {logged.Real / buffered.Real:P1}; ratios to parse-only {logged.Real / logged.Noop:P1} vs {buffered.Real / buffered.Noop:P1}");
        return 0;
    }

    private static async Task<(double Real, double Noop)> RunOnceAsync(BenchArgs args, string? ack)
    {
        var totalEvents = args.Int("events", 2_000_000);
        var entities = args.Int("entities", 1000);
        var batch = args.Int("batch", 1000);
        var clients = args.Int("clients", 32);
        // How many distinct entities one request covers (default: all of them, one event each — the worst case
        // for per-entity streams). Fewer models a source that reports for its own few entities.
        var perRequest = Math.Clamp(args.Int("entities-per-request", entities), 1, entities);
        var requests = totalEvents / batch;
        Console.WriteLine($"ingest: {requests} requests x {batch} events over {entities} entities ({perRequest} per request), {clients} concurrent connections, load generator in-process");

        var settings = new Dictionary<string, string?>();
        if (args.Get("flush-ms") is { } flush) settings["AiOps:Ingestion:MaxFlushDelay"] = TimeSpan.FromMilliseconds(int.Parse(flush)).ToString();
        if (args.Get("no-detection") is not null) settings["AiOps:Grains:Detection"] = "false";
        if (args.Get("direct") is not null) settings["AiOps:Ingestion:DirectGrainCalls"] = "true";
        if (args.Get("queues") is { } queues) settings["AiOps:StreamQueues"] = queues;
        if (ack is not null) settings["AiOps:Ingestion:Acknowledge"] = ack;
        Console.WriteLine($"acknowledgement: {ack ?? "default (Logged: durable ingest log)"}");
        await using var server = await BenchServer.StartAsync(settings);
        var key = server.AdminKey;

        var rounds = Math.Max(1, args.Int("rounds", 3));
        var realOnly = args.Get("real-only") is not null;
        using var sampler = args.Get("alloc-types") is not null ? new AllocationSampler() : null;
        Console.Write("building payloads… ");
        var start = DateTimeOffset.UtcNow.AddDays(-2);
        // Warm-up on the same entities (other event ids): activation and JIT are one-time costs, the figure is the steady state.
        // Long enough for tiered JIT to promote the hot paths (on a saturated 2-core box the background compiler is starved).
        var warmup = Enumerable.Range(0, args.Int("warmup", 1000)).Select(r => Payload("e", r, batch, entities, perRequest, start.AddHours(-1), idPrefix: "warm")).ToArray();
        // One payload set per round (event ids must be new each time, or the grains count them as duplicates);
        // the no-op endpoint parses the same bytes as the real one.
        var payloadSets = Enumerable.Range(0, rounds)
            .Select(round => Enumerable.Range(0, requests).Select(r => Payload("e", r, batch, entities, perRequest, start.AddHours(round), idPrefix: $"r{round}-")).ToArray())
            .ToArray();
        Console.WriteLine($"{rounds} x {payloadSets[0].Sum(p => (long)p.Length) / (1024 * 1024)} MiB, {payloadSets[0].Average(p => p.Length) / batch:F0} bytes/event");

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseCookies = false }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        // Warm up both paths (JIT, connection pool, grain activations), alternating.
        Console.Write($"warming up with {warmup.Length} requests per endpoint… ");
        await Send(http, "/bench/noop", warmup, clients);
        await Send(http, "/api/v1/telemetry", warmup, clients);
        await Send(http, "/bench/noop", warmup, clients);
        Console.WriteLine("done");
        long applied = warmup.Length * (long)batch;
        await WaitApplied(server.Client, "e", entities, applied, TimeSpan.FromMinutes(2), server.Services);

        // Rounds alternate the baseline (parse only) and the real path on fresh payloads, so that JIT tiering,
        // background work and machine noise affect both; the ratio of the medians is the figure.
        var noopRates = new List<double>();
        var realRates = new List<double>();
        double[] latencies = [];
        for (var round = 0; round < rounds; round++)
        {
            var payloads = payloadSets[round];
            GC.Collect();
            sampler?.Reset();
            var gc0 = GcSnapshot.Take();
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            // --real-only (for profiling the real path): skip the baseline rounds; no ratio is printed.
            if (!realOnly) await Send(http, "/bench/noop", payloads, clients);
            var noopSeconds = sw.Elapsed.TotalSeconds;
            if (sampler is not null && !realOnly) { sampler.Print($"round {round + 1} no-op", totalEvents); sampler.Reset(); }
            var noopCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            var noopGc = GcSnapshot.Take() - gc0;
            noopRates.Add(totalEvents / noopSeconds);

            // The real path: validate, group, publish to per-entity streams, apply in grains; done when every summary reflects every event.
            GC.Collect();
            sampler?.Reset();
            gc0 = GcSnapshot.Take();
            cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var trainer = AiOps.Intelligence.BackgroundDetectorTrainer.Shared;
            var (trainBusy0, trained0) = (trainer.BusyTime, trainer.Completed);
            var merge0 = AiOps.Server.Ingestion.TelemetryPublisher.MergeTime;
            var log0 = AiOps.Server.Ingestion.Durability.IngestLog.Totals;
            sw.Restart();
            using var sampling = new CancellationTokenSource();
            var sampler2 = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested) { LogFileBytes(server.DataDirectory); await Task.Delay(100); }
            });
            latencies = await Send(http, "/api/v1/telemetry", payloads, clients);
            var acceptedSeconds = sw.Elapsed.TotalSeconds;
            applied += (long)requests * batch;
            await WaitApplied(server.Client, "e", entities, applied, TimeSpan.FromMinutes(5), server.Services);
            var e2eSeconds = sw.Elapsed.TotalSeconds;
            sampling.Cancel();
            await sampler2;
            var realCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            var realGc = GcSnapshot.Take() - gc0;
            if (sampler is not null) { sampler.Print($"round {round + 1} real", totalEvents); sampler.Reset(); }
            realRates.Add(totalEvents / e2eSeconds);

            Console.WriteLine();
            Console.WriteLine($"round {round + 1}: no-op {noopRates[^1],10:N0} events/s ({noopSeconds:F2} s, CPU {noopCpu:F1} s; {noopGc.Describe(totalEvents)})");
            Console.WriteLine($"round {round + 1}: real  {realRates[^1],10:N0} events/s end to end ({e2eSeconds:F2} s; all replies after {acceptedSeconds:F2} s; CPU {realCpu:F1} s; {realGc.Describe(totalEvents)})");
            Console.WriteLine($"round {round + 1}: merging requests into entity batches {(AiOps.Server.Ingestion.TelemetryPublisher.MergeTime - merge0).TotalSeconds:F2} s");
            Console.WriteLine($"round {round + 1}: background training {trainer.Completed - trained0} models, {(trainer.BusyTime - trainBusy0).TotalSeconds:F2} s busy, {trainer.Queued} queued, share now {trainer.CurrentBusyShare:P0}");
            var eph = GC.GetGCMemoryInfo(GCKind.Ephemeral);
            Console.WriteLine($"round {round + 1}: last ephemeral GC (gen{eph.Generation}): promoted {eph.PromotedBytes / 1048576.0:F1} MiB, pause {eph.PauseDurations[0].TotalMilliseconds:F1} ms, heap {eph.HeapSizeBytes / 1048576.0:F0} MiB; GC pause share since start {GC.GetGCMemoryInfo(GCKind.Any).PauseTimePercentage:F1} %");
            if (!realOnly) Console.WriteLine($"round {round + 1}: ratio {realRates[^1] / noopRates[^1],10:P1}");
            var log = server.Services.GetService(typeof(AiOps.Server.Ingestion.Durability.IngestLog)) as AiOps.Server.Ingestion.Durability.IngestLog;
            if (log is { Enabled: true })
            {
                var log1 = AiOps.Server.Ingestion.Durability.IngestLog.Totals;
                var writes = Math.Max(1, log1.Writes - log0.Writes);
                Console.WriteLine($"round {round + 1}: ingest log {log1.Writes - log0.Writes} group commits, {(log1.Events - log0.Events) / (double)writes:F0} events and {(log1.Bytes - log0.Bytes) / (double)writes / 1024:F0} KiB each ({(log1.Bytes - log0.Bytes) / (double)Math.Max(1, log1.Events - log0.Events):F1} bytes/event), append+fsync {(log1.WriteTime - log0.WriteTime).TotalMilliseconds / writes:F1} ms each");
                Console.WriteLine($"round {round + 1}: ingest log {LogFileBytes(server.DataDirectory) / 1048576.0:F1} MiB on disk now, {log.Position - log.TrimmedThrough} records untrimmed, peak {s_peakLogBytes / 1048576.0:F1} MiB so far");
                var delivery = server.Services.GetService(typeof(AiOps.Server.Ingestion.Durability.LogDelivery)) as AiOps.Server.Ingestion.Durability.LogDelivery;
                Console.WriteLine($"round {round + 1}: stream batches given up so far {AiOps.Server.Streaming.LoggingStreamFailureHandler.Total}, entities sent logged points again {delivery?.Repaired ?? 0}");
            }
        }

        var noopMedian = Median(noopRates);
        var realMedian = Median(realRates);
        Array.Sort(latencies);
        Console.WriteLine();
        if (!realOnly) Console.WriteLine($"no-op endpoint (parse only), median of {rounds}:   {noopMedian,12:N0} events/s");
        Console.WriteLine($"ingestion end to end, median of {rounds}:          {realMedian,12:N0} events/s");
        if (!realOnly) Console.WriteLine($"ratio of the medians:                       {realMedian / noopMedian,12:P1}");
        Console.WriteLine($"request latency (ack), last round: p50 {latencies[latencies.Length / 2]:F1} ms, p99 {latencies[(int)(latencies.Length * 0.99)]:F1} ms");
        return (realMedian, noopMedian);
    }

    private static long s_peakLogBytes;

    private static long LogFileBytes(string data)
    {
        long size = 0;
        var dir = new DirectoryInfo(Path.Combine(data, "ingest-log"));
        if (dir.Exists) foreach (var seg in dir.GetFiles("*.seg")) { try { size += seg.Length; } catch (FileNotFoundException) { } }
        if (size > s_peakLogBytes) s_peakLogBytes = size;
        return size;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <param name="phase">Added to the request number in the value's cycle (1 + (7·(request + phase) + entity) mod 13): payloads
    /// that continue earlier ones pass the requests sent before, so that the cycle runs on. With 0 a round restarts the
    /// cycle, a change that seasonal detectors alarm on.</param>
    internal static byte[] Payload(string prefix, int request, int batch, int entities, int perRequest, DateTimeOffset start, string? idPrefix = null, long phase = 0)
    {
        var sb = new StringBuilder(batch * 170);
        sb.Append('[');
        var ts = start.AddSeconds(request).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        for (var i = 0; i < batch; i++)
        {
            var entity = perRequest >= entities ? i % entities : (int)(((long)request * perRequest + i % perRequest) % entities);
            var (kind, metric) = (entity % 3) switch
            {
                0 => ("pipeline", "rows.out"),
                1 => ("model", "predictions"),
                _ => ("costcenter", "cost"),
            };
            if (i > 0) sb.Append(',');
            sb.Append("{\"entity\":{\"kind\":\"").Append(kind).Append("\",\"id\":\"").Append(prefix).Append('-').Append(entity)
              .Append("\"},\"metric\":\"").Append(metric).Append("\",\"value\":").Append(1 + ((request + phase) * 7 + i) % 13)
              .Append(",\"timestamp\":\"").Append(perRequest >= entities ? ts : start.AddSeconds(request).AddMilliseconds(i / perRequest * 5).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'")).Append("\",\"id\":\"").Append(idPrefix ?? prefix).Append(request).Append('-').Append(i).Append("\"}");
        }
        sb.Append(']');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    internal static async Task<double[]> Send(HttpClient http, string path, byte[][] payloads, int clients)
    {
        var next = -1;
        var latencies = new double[payloads.Length];
        var workers = Enumerable.Range(0, clients).Select(async _ =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= payloads.Length) return;
                var content = new ByteArrayContent(payloads[i]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                var t = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync(path, content);
                latencies[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                if ((int)response.StatusCode != 202)
                    throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        });
        await Task.WhenAll(workers);
        return latencies;
    }

    internal static async Task WaitApplied(IClusterClient client, string prefix, int entities, long expected, TimeSpan timeout, IServiceProvider? services = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        long applied = 0;
        long[] counts = [];
        while (DateTime.UtcNow < deadline)
        {
            counts = await Task.WhenAll(Enumerable.Range(0, entities).Select(async e =>
            {
                var kind = (e % 3) switch { 0 => EntityKind.Pipeline, 1 => EntityKind.Model, _ => EntityKind.CostCenter };
                return (await client.GetEntity(kind, $"{prefix}-{e}").GetSummaryAsync()).EventsApplied;
            }));
            applied = counts.Sum();
            if (applied >= expected) return;
            await Task.Delay(20);
        }
        // Which entities are short, and by how much (each request gives every entity the same share in this bench).
        var share = expected / Math.Max(1, entities);
        var short_ = counts.Select((c, e) => (Entity: e, Missing: share - c)).Where(x => x.Missing != 0).ToList();
        throw new TimeoutException($"only {applied} of {expected} events applied; {short_.Count} entities off their share of {share}: "
            + string.Join(", ", short_.Take(20).Select(x => $"{prefix}-{x.Entity} missing {x.Missing}"))
            + $"; stream batches given up {AiOps.Server.Streaming.LoggingStreamFailureHandler.Total}"
            + (services is null || short_.Count == 0 ? "" : await ServerStateAsync(client, services, prefix, short_[0].Entity)));
    }

    /// <summary>Where the missing events are: still in the publisher, sent but not applied, or applied positions without the points.</summary>
    private static async Task<string> ServerStateAsync(IClusterClient client, IServiceProvider services, string prefix, int entity)
    {
        var kind = (entity % 3) switch { 0 => EntityKind.Pipeline, 1 => EntityKind.Model, _ => EntityKind.CostCenter };
        var grain = client.GetEntity(kind, $"{prefix}-{entity}");
        var summary = await grain.GetSummaryAsync();
        var checkpoint = await grain.GetLogCheckpointAsync(0);
        var publisher = (AiOps.Server.Ingestion.TelemetryPublisher?)services.GetService(typeof(AiOps.Server.Ingestion.TelemetryPublisher));
        var checkpoints = (AiOps.Grains.Entities.IngestCheckpoints?)services.GetService(typeof(AiOps.Grains.Entities.IngestCheckpoints));
        var log = (AiOps.Server.Ingestion.Durability.IngestLog?)services.GetService(typeof(AiOps.Server.Ingestion.Durability.IngestLog));
        var delivery = (AiOps.Server.Ingestion.Durability.LogDelivery?)services.GetService(typeof(AiOps.Server.Ingestion.Durability.LogDelivery));
        var progress = (AiOps.Grains.Entities.IngestionProgress?)services.GetService(typeof(AiOps.Grains.Entities.IngestionProgress));
        // Which requests are missing: each request gives the entity one point at its own second.
        var metric = kind switch { EntityKind.Pipeline => "rows.out", EntityKind.Model => "predictions", _ => "cost" };
        var points = ((await grain.GetSeriesAsync(metric, SeriesResolution.Raw, 100_000))?.Points ?? []).OrderBy(p => p.Timestamp).ToList();
        var gaps = new List<string>();
        for (var i = 1; i < points.Count; i++)
        {
            var step = (points[i].Timestamp - points[i - 1].Timestamp).TotalSeconds;
            if (step > 1.5) gaps.Add($"{points[i - 1].Timestamp:HH:mm:ss}..{points[i].Timestamp:HH:mm:ss} ({step - 1:F0} s missing)");
        }
        var series = points.Count == 0 ? "no raw points" : $"{points.Count} raw points {points[0].Timestamp:HH:mm:ss}..{points[^1].Timestamp:HH:mm:ss}, gaps: {(gaps.Count == 0 ? "none" : string.Join(", ", gaps.Take(10)))}";
        return $"; {kind}/{prefix}-{entity}: {series}; applied {summary.EventsApplied}, duplicates dropped {summary.DuplicatesDropped}, log position held {checkpoint.Applied}, saved {checkpoint.Saved}"
            + $"; publisher pending {publisher?.Pending}, lowest unpublished {publisher?.LowestUnpublishedPosition()}"
            + $"; checkpoints: {checkpoints?.PendingEntities} entities pending, lowest unsaved {checkpoints?.LowestUnsaved(0)}"
            + $"; log position {log?.Position}, trimmed through {log?.TrimmedThrough}; re-delivered entities {delivery?.Repaired}"
            + $"; streams: published {progress?.Published}, consumed {progress?.Consumed}";
    }
}

internal readonly record struct GcSnapshot(long Allocated, int Gen0, int Gen1, int Gen2, TimeSpan Pause)
{
    public static GcSnapshot Take() => new(GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    public static GcSnapshot operator -(GcSnapshot a, GcSnapshot b) => new(a.Allocated - b.Allocated, a.Gen0 - b.Gen0, a.Gen1 - b.Gen1, a.Gen2 - b.Gen2, a.Pause - b.Pause);

    public string Describe(long events) => $"{Allocated / (double)events:F0} bytes/event; GCs gen0 {Gen0}, gen1 {Gen1}, gen2 {Gen2}; pauses {Pause.TotalMilliseconds:F0} ms";
}
