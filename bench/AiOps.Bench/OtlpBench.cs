using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace AiOps.Bench;

/// <summary>
/// OTLP/HTTP protobuf data points versus native NDJSON events, into one server in the same run, end to end (until
/// every entity grain's summary reflects every point). Both carry the same points: per request the same entities
/// (default 100), each with the same number of points (default 10); in OTLP one resource per entity
/// (aiops.entity.kind/id) with one delta monotonic sum whose points differ by an attribute, in NDJSON one event per
/// point. Rounds alternate which goes first; the figure is the ratio of the medians.
/// </summary>
public static class OtlpBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var totalPoints = args.Int("events", 1_000_000);
        var entities = args.Int("entities", 1000);
        var perResource = args.Int("points-per-resource", 10);
        var batch = args.Int("batch", 1000);
        var clients = args.Int("clients", 32);
        var rounds = Math.Max(1, args.Int("rounds", 3));
        var resourcesPerRequest = Math.Max(1, batch / perResource);
        var requests = totalPoints / batch;
        Console.WriteLine($"otlp: {requests} requests x {batch} points ({resourcesPerRequest} entities x {perResource} points) over {entities} entities, {clients} connections, load generator in-process");

        var settings = new Dictionary<string, string?>();
        if (args.Get("no-detection") is not null) settings["AiOps:Grains:Detection"] = "false";
        await using var server = await BenchServer.StartAsync(settings);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseCookies = false }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminKey);

        var start = DateTimeOffset.UtcNow.AddDays(-2);
        Console.Write("building payloads… ");
        var warmupRequests = args.Int("warmup", 500);
        var warmNd = Enumerable.Range(0, warmupRequests).Select(r => Ndjson("n", r, resourcesPerRequest, perResource, entities, start.AddHours(-1), "warm")).ToArray();
        var warmOtlp = Enumerable.Range(0, warmupRequests).Select(r => Otlp("o", r, resourcesPerRequest, perResource, entities, start.AddHours(-1))).ToArray();
        var ndSets = Enumerable.Range(0, rounds).Select(round => Enumerable.Range(0, requests).Select(r => Ndjson("n", r, resourcesPerRequest, perResource, entities, start.AddHours(round), $"r{round}")).ToArray()).ToArray();
        var otlpSets = Enumerable.Range(0, rounds).Select(round => Enumerable.Range(0, requests).Select(r => Otlp("o", r, resourcesPerRequest, perResource, entities, start.AddHours(round))).ToArray()).ToArray();
        Console.WriteLine($"NDJSON {ndSets[0].Average(p => p.Length) / batch:F0} bytes/event, OTLP protobuf {otlpSets[0].Average(p => p.Length) / batch:F0} bytes/point");

        Console.Write("warming up… ");
        await Send(http, "/api/v1/telemetry", "application/x-ndjson", 202, warmNd, clients);
        await Send(http, "/v1/metrics", "application/x-protobuf", 200, warmOtlp, clients);
        long ndApplied = (long)warmupRequests * batch, otlpApplied = ndApplied;
        await IngestBench.WaitApplied(server.Client, "n", entities, ndApplied, TimeSpan.FromMinutes(2));
        await IngestBench.WaitApplied(server.Client, "o", entities, otlpApplied, TimeSpan.FromMinutes(2));
        Console.WriteLine("done");

        var ndRates = new List<double>();
        var otlpRates = new List<double>();
        var ndCpu = new List<double>();
        var otlpCpu = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < 2; k++)
            {
                var otlpTurn = (round + k) % 2 == 1; // alternate which goes first
                GC.Collect();
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                if (otlpTurn)
                {
                    await Send(http, "/v1/metrics", "application/x-protobuf", 200, otlpSets[round], clients);
                    otlpApplied += (long)requests * batch;
                    await IngestBench.WaitApplied(server.Client, "o", entities, otlpApplied, TimeSpan.FromMinutes(5));
                    otlpRates.Add(requests * (double)batch / sw.Elapsed.TotalSeconds);
                }
                else
                {
                    await Send(http, "/api/v1/telemetry", "application/x-ndjson", 202, ndSets[round], clients);
                    ndApplied += (long)requests * batch;
                    await IngestBench.WaitApplied(server.Client, "n", entities, ndApplied, TimeSpan.FromMinutes(5));
                    ndRates.Add(requests * (double)batch / sw.Elapsed.TotalSeconds);
                }
                var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
                (otlpTurn ? otlpCpu : ndCpu).Add(cpu / (requests * (double)batch) * 1e6);
                Console.WriteLine($"round {round + 1}: {(otlpTurn ? "OTLP protobuf" : "NDJSON       ")} {(otlpTurn ? otlpRates[^1] : ndRates[^1]),12:N0} points/s end to end ({sw.Elapsed.TotalSeconds:F2} s, CPU {cpu:F1} s)");
            }
        }
        var nd = Median(ndRates);
        var otlp = Median(otlpRates);
        Console.WriteLine();
        Console.WriteLine($"native NDJSON, median of {rounds}:   {nd,12:N0} events/s");
        Console.WriteLine($"OTLP protobuf, median of {rounds}:   {otlp,12:N0} data points/s");
        Console.WriteLine($"OTLP / NDJSON:                {otlp / nd,12:P1}");
        // The process's CPU time per point (server and load generator together) is steadier than the rate on a shared machine.
        Console.WriteLine($"CPU per million, medians:     NDJSON {Median(ndCpu):F2} s, OTLP {Median(otlpCpu):F2} s (OTLP / NDJSON {Median(ndCpu) / Median(otlpCpu):P1} of the throughput per CPU second)");
        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static (string Kind, string Metric) KindOf(int entity) => (entity % 3) switch
    {
        0 => ("pipeline", "rows.out"),
        1 => ("model", "predictions"),
        _ => ("costcenter", "cost"),
    };

    private static int EntityOf(int request, int j, int resourcesPerRequest, int entities) => (int)(((long)request * resourcesPerRequest + j) % entities);

    private static byte[] Ndjson(string prefix, int request, int resources, int perResource, int entities, DateTimeOffset start, string idPrefix)
    {
        var sb = new StringBuilder(resources * perResource * 120);
        var ts = start.AddSeconds(request).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        for (var j = 0; j < resources; j++)
        {
            var e = EntityOf(request, j, resources, entities);
            var (kind, metric) = KindOf(e);
            for (var k = 0; k < perResource; k++)
            {
                sb.Append("{\"entity\":{\"kind\":\"").Append(kind).Append("\",\"id\":\"").Append(prefix).Append('-').Append(e)
                  .Append("\"},\"metric\":\"").Append(metric).Append("\",\"value\":").Append(1 + (request * 7 + j + k) % 13)
                  .Append(",\"timestamp\":\"").Append(ts).Append("\",\"id\":\"").Append(idPrefix).Append('-').Append(request).Append('-').Append(j).Append('-').Append(k).Append("\"}\n");
            }
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>An ExportMetricsServiceRequest on the protobuf wire (field numbers of opentelemetry/proto/metrics/v1).</summary>
    private static byte[] Otlp(string prefix, int request, int resources, int perResource, int entities, DateTimeOffset start)
    {
        var timeNs = (ulong)start.AddSeconds(request).ToUnixTimeMilliseconds() * 1_000_000UL;
        var startNs = timeNs - 10_000_000_000UL;
        var body = new Proto();
        for (var j = 0; j < resources; j++)
        {
            var e = EntityOf(request, j, resources, entities);
            var (kind, metric) = KindOf(e);
            var resource = new Proto().Message(1, new Proto()
                .Message(1, KeyValue("service.name", "bench"))
                .Message(1, KeyValue("aiops.entity.kind", kind))
                .Message(1, KeyValue("aiops.entity.id", $"{prefix}-{e}")));
            var sum = new Proto();
            for (var k = 0; k < perResource; k++)
            {
                sum.Message(1, new Proto()
                    .Message(7, KeyValue("shard", k.ToString()))
                    .Fixed64(2, startNs)
                    .Fixed64(3, timeNs)
                    .Fixed64(4, BitConverter.DoubleToUInt64Bits(1 + (request * 7 + j + k) % 13)));
            }
            sum.Varint(2, 1).Varint(3, 1); // delta, monotonic
            var scope = new Proto().Message(1, new Proto().String(1, "bench")).Message(2, new Proto().String(1, metric).String(3, "1").Message(7, sum));
            body.Message(1, resource.Message(2, scope));
        }
        return body.ToArray();
    }

    private static Proto KeyValue(string key, string value) => new Proto().String(1, key).Message(2, new Proto().String(1, value));

    /// <summary>A minimal protobuf writer for the bench's payloads.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _s = new();
        public byte[] ToArray() => _s.ToArray();

        public Proto Varint(int field, ulong v) { Raw((ulong)(field << 3)); Raw(v); return this; }
        public Proto Fixed64(int field, ulong v)
        {
            Raw((ulong)(field << 3 | 1));
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(b, v);
            _s.Write(b);
            return this;
        }
        public Proto String(int field, string v) => Bytes(field, Encoding.UTF8.GetBytes(v));
        public Proto Message(int field, Proto m) => Bytes(field, m.ToArray());
        private Proto Bytes(int field, byte[] b) { Raw((ulong)(field << 3 | 2)); Raw((ulong)b.Length); _s.Write(b); return this; }
        private void Raw(ulong v)
        {
            while (v >= 0x80) { _s.WriteByte((byte)(v | 0x80)); v >>= 7; }
            _s.WriteByte((byte)v);
        }
    }

    private static async Task Send(HttpClient http, string path, string contentType, int expected, byte[][] payloads, int clients)
    {
        var next = -1;
        var workers = Enumerable.Range(0, clients).Select(async _ =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= payloads.Length) return;
                var content = new ByteArrayContent(payloads[i]);
                content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
                using var response = await http.PostAsync(path, content);
                if ((int)response.StatusCode != expected)
                    throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                if (path == "/v1/metrics" && response.Content.Headers.ContentLength > 0)
                    throw new InvalidOperationException($"{path}: partial success: {Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync())}");
            }
        });
        await Task.WhenAll(workers);
    }
}
