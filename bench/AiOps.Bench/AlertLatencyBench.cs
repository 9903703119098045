using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace AiOps.Bench;

/// <summary>
/// Alert latency: from sending the HTTP request that carries an anomalous point to the SSE event that
/// announces the opened alert at a connected client, while a background load of normal telemetry runs at
/// a given share of the ingestion throughput. Each probe entity first learns a calm series, then receives
/// one spike (so every probe opens a new alert). Baseline in the same run: the same probes with no load.
/// </summary>
public static class AlertLatencyBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var maxRate = args.Int("max-rate", 300_000);
        var probes = args.Int("probes", 120);
        var trace = args.Get("trace") is not null; // print every probe: latency(request duration / GC pause during the request / send→publish / publish→SSE), ms
        var shares = (args.Get("shares") ?? "0,10,50").Split(',').Select(int.Parse).ToArray();
        Console.WriteLine($"alert latency: {probes} probes per load level; load levels {string.Join(", ", shares.Select(s => $"{s}%"))} of {maxRate:N0} events/s");

        await using var server = await BenchServer.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminKey);

        // The live feed, filtered to the probes' anomaly alerts.
        var received = new ConcurrentDictionary<string, long>();
        var publishedAt = new ConcurrentDictionary<string, (long Published, long Seen)>(); // server's publish time and the client's clock at the SSE event (Unix ms)
        var sentAt = new ConcurrentDictionary<string, long>();
        using var feedCts = new CancellationTokenSource();
        using var feedClient = new HttpClient { BaseAddress = server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        feedClient.DefaultRequestHeaders.Authorization = http.DefaultRequestHeaders.Authorization;
        var feed = Task.Run(async () =>
        {
            using var response = await feedClient.GetAsync("/api/v1/alerts/stream?kind=metricAnomaly&entityId=probe-*", HttpCompletionOption.ResponseHeadersRead, feedCts.Token);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(feedCts.Token));
            while (!feedCts.IsCancellationRequested && await reader.ReadLineAsync(feedCts.Token) is { } line)
            {
                if (!line.StartsWith("data: ")) continue;
                var now = Stopwatch.GetTimestamp();
                var e = JsonNode.Parse(line.AsSpan(6).ToString())!;
                if ((string?)e["type"] != "opened") continue;
                received.TryAdd((string)e["alert"]!["entityId"]!, now);
                if (e["receivedAtMs"] is { } published) publishedAt.TryAdd((string)e["alert"]!["entityId"]!, ((long)published, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            }
        });

        var start = DateTimeOffset.UtcNow.AddHours(-12);

        // Warm-up (not measured): the background entities activate and learn, tiered JIT compiles the hot
        // paths, and a few warm-up probes open alerts — the figures are the steady state of a running server.
        var warmSeconds = args.Int("warmup", 20);
        if (warmSeconds > 0)
        {
            Console.Write($"warming up for {warmSeconds} s at {shares.Max()}% load… ");
            await CalmHistory(http, "warm-", 20, start);
            using var warmCts = new CancellationTokenSource();
            var warmLoad = Task.Run(() => Load(http, maxRate * Math.Max(shares.Max(), 10) / 100, warmCts.Token));
            var warmEnd = DateTime.UtcNow.AddSeconds(warmSeconds);
            for (var p = 0; DateTime.UtcNow < warmEnd; p = (p + 1) % 20)
            {
                await Post(http, $$"""[{"entity":{"kind":"model","id":"warm-{{p}}"},"metric":"latency_ms","value":{{(p % 2 == 0 ? 5000 : 100)}},"timestamp":"{{start.AddMinutes(400 + p):yyyy-MM-ddTHH:mm:ssZ}}"}]""");
                await Task.Delay(100);
            }
            warmCts.Cancel();
            await warmLoad;
            await Task.Delay(2000);
            Console.WriteLine("done");
        }

        foreach (var share in shares)
        {
            // Calm history for this level's probes (not timed).
            var prefix = $"probe-{share}-";
            await CalmHistory(http, prefix, probes, start);
            await Task.Delay(1000);

            using var loadCts = new CancellationTokenSource();
            var rate = maxRate * share / 100;
            var load = rate > 0 ? Task.Run(() => Load(http, rate, loadCts.Token)) : Task.CompletedTask;
            await Task.Delay(rate > 0 ? 3000 : 0); // let the load settle

            var latencies = new List<double>();
            var sent = new Dictionary<string, long>();
            var postMs = new Dictionary<string, (double Post, double Gc)>();
            for (var p = 0; p < probes; p++)
            {
                var id = $"{prefix}{p}";
                var body = $$"""[{"entity":{"kind":"model","id":"{{id}}"},"metric":"latency_ms","value":5000,"timestamp":"{{start.AddMinutes(400):yyyy-MM-ddTHH:mm:ssZ}}"}]""";
                sent[id] = Stopwatch.GetTimestamp();
                sentAt[id] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                var pause0 = GC.GetTotalPauseDuration();
                await Post(http, body);
                postMs[id] = (Stopwatch.GetElapsedTime(sent[id]).TotalMilliseconds, (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds);
                await Task.Delay(50);
            }
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && sent.Keys.Any(k => !received.ContainsKey(k))) await Task.Delay(50);
            loadCts.Cancel();
            var achieved = await (load is Task<double> t ? t : Task.FromResult(0.0));
            foreach (var (id, t0) in sent)
                if (received.TryGetValue(id, out var t1)) latencies.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            if (trace)
                Console.WriteLine(string.Join(" ", sent.Select(kv => received.TryGetValue(kv.Key, out var r) ? Stopwatch.GetElapsedTime(kv.Value, r).TotalMilliseconds.ToString("F0") + $"({postMs[kv.Key].Post:F0}/{postMs[kv.Key].Gc:F0}/{(publishedAt.TryGetValue(kv.Key, out var pa) ? $"{pa.Published - sentAt[kv.Key]}/{pa.Seen - pa.Published}" : "?")})" : "-")));
            latencies.Sort();
            var missing = sent.Count - latencies.Count;
            Console.WriteLine(latencies.Count == 0
                ? $"load {share,3}% ({rate:N0} events/s offered): no alert events received"
                : $"load {share,3}% ({rate:N0} events/s offered, {achieved:N0} achieved): request→SSE p50 {P(latencies, 0.5):F1} ms, p99 {P(latencies, 0.99):F1} ms, max {latencies[^1]:F1} ms ({latencies.Count} alerts, {missing} missing)");
        }
        feedCts.Cancel();
        try { await feed; } catch (OperationCanceledException) { } catch (IOException) { }
        return 0;
    }

    /// <summary>400 calm per-minute points for each probe entity (20 entities per request).</summary>
    private static async Task CalmHistory(HttpClient http, string prefix, int probes, DateTimeOffset start)
    {
        for (var chunk = 0; chunk < probes; chunk += 20)
        {
            var sb = new StringBuilder("[");
            var first = true;
            for (var p = chunk; p < Math.Min(probes, chunk + 20); p++)
            {
                for (var i = 0; i < 400; i++)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append($$"""{"entity":{"kind":"model","id":"{{prefix}}{{p}}"},"metric":"latency_ms","value":{{100 + (i * 7 % 5)}},"timestamp":"{{start.AddMinutes(i):yyyy-MM-ddTHH:mm:ssZ}}"}""");
                }
            }
            sb.Append(']');
            await Post(http, sb.ToString());
        }
    }

    private static double P(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * q))];

    private static async Task Post(HttpClient http, string body)
    {
        using var response = await http.PostAsync("/api/v1/telemetry", new StringContent(body, Encoding.UTF8, "application/json"));
        if ((int)response.StatusCode != 202) throw new InvalidOperationException($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Normal telemetry over 1,000 entities at the given rate, 1,000 events per request.</summary>
    private static async Task<double> Load(HttpClient http, int rate, CancellationToken ct)
    {
        var payloads = Enumerable.Range(0, 16).Select(r =>
        {
            var sb = new StringBuilder("[");
            for (var i = 0; i < 1000; i++)
            {
                if (i > 0) sb.Append(',');
                sb.Append($$"""{"entity":{"kind":"pipeline","id":"bg-{{i}}"},"metric":"rows.out","value":{{1000 + (r * 31 + i) % 17}}}""");
            }
            return Encoding.UTF8.GetBytes(sb.Append(']').ToString());
        }).ToArray();
        var sw = Stopwatch.StartNew();
        long sent = 0;
        var inFlight = new List<Task>();
        while (!ct.IsCancellationRequested)
        {
            var due = (long)(sw.Elapsed.TotalSeconds * rate);
            while (sent + 1000 <= due && inFlight.Count < 64)
            {
                var content = new ByteArrayContent(payloads[(sent / 1000) % payloads.Length]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                inFlight.Add(http.PostAsync("/api/v1/telemetry", content));
                sent += 1000;
            }
            inFlight.RemoveAll(t => t.IsCompleted);
            try { await Task.Delay(2, ct); } catch (OperationCanceledException) { break; }
        }
        await Task.WhenAll(inFlight);
        return sent / sw.Elapsed.TotalSeconds;
    }
}
