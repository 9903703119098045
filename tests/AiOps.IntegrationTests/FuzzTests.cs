using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests;

/// <summary>
/// A hostile user's session: seeded, mutated requests against every route of the OpenAPI document with every role.
/// No response may be a 5xx, and afterwards the state must still save and load: a control entity written before the
/// fuzzing reads back unchanged after a restart, and every list and view still answers. The request count comes from
/// <c>AIOPS_FUZZ_REQUESTS</c> (default 2,000; the closing figures use 10,000), the seed from <c>AIOPS_FUZZ_SEED</c>.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Kinds = ["pipeline", "model", "costcenter", "dataset"];
    private static readonly string[] Metrics = ["run.success", "run.failure", "run.duration_seconds", "rows.in", "rows.out", "dq.failures",
        "predictions", "errors", "latency_ms", "accuracy", "drift", "value", "cost", "custom.gauge"];

    /// <summary>Values that have broken parsers and sums before: overflow, denormals, huge integers, specials as strings.</summary>
    private static readonly string[] HostileNumbers = ["1.7976931348623157e308", "-1.7976931348623157e308", "1e309", "-0", "5e-324",
        "1000000000000001", "9007199254740993", "1e15", "-1e15", "\"NaN\"", "\"Infinity\"", "null", "true", "\"\"", "[]", "{}", "0x10", "01", "1e-400"];

    /// <summary>Strings that have broken ids, paths and encoders: separators, controls, lone surrogates, very long ones.</summary>
    private static readonly string[] HostileStrings = ["\"\"", "\"a/b\"", "\"..\"", "\"%2F\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udfff\\ud800\"",
        "\"" + new string('x', 5000) + "\"", "\"pipeline\"", "\"COSTCENTER\"", "\"cost_center\"", "\"\\n\"", "\"é\"", "\"😀\"",
        "\"http://169.254.169.254/latest\"", "\"http://127.0.0.1:9/\"", "\"http://[::1]:9/\"", "\"file:///etc/passwd\"", "\"2026-13-45T99:99:99Z\"",
        "\"2026-11-30T00:00:00+25:00\"", "\"0001-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59Z\"", "1", "null", "[\"a\"]"];

    private static readonly byte[][] HostileBytes = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00], [(byte)'"'], [(byte)'{'], [(byte)']']];

    [Fact]
    public async Task MutatedRequestsOnEveryRouteWithEveryRoleNeverGetA5xxAndStateStillSavesAndLoads()
    {
        var requests = int.TryParse(System.Environment.GetEnvironmentVariable("AIOPS_FUZZ_REQUESTS"), out var n) && n > 0 ? n : 2000;
        var seed = int.TryParse(System.Environment.GetEnvironmentVariable("AIOPS_FUZZ_SEED"), out var s) ? s : 20261130;
        var random = new Random(seed);
        var data = TempDirectory.Create("aiops-fuzz");
        var statuses = new SortedDictionary<int, int>();
        var failures = new List<string>();
        JsonNode control;

        // A real server process over real HTTP: the in-memory test host rejects some requests (e.g. NUL in a path) on the
        // client side before the server could answer them.
        await using (var server = await ServerProcess.StartAsync(Environment(data)))
        {
            var adminKey = (await File.ReadAllTextAsync(Path.Combine(data, "bootstrap-admin.key"))).Trim();
            var admin = Client(server, adminKey);
            var clients = new Dictionary<string, HttpClient>
            {
                ["admin"] = admin,
                ["operator"] = Client(server, await CreateKeyAsync(admin, "operator")),
                ["reader"] = Client(server, await CreateKeyAsync(admin, "reader")),
                ["ingest"] = Client(server, await CreateKeyAsync(admin, "ingest")),
                ["none"] = Client(server, null),
                ["bogus"] = Client(server, "aiops_nope_0000"),
            };

            // The control entity: written before the fuzzing, read back after a restart.
            await admin.PutJson("/api/v1/costcenters/control-cc", new { monthlyBudget = 100.0, team = "fin" });
            await admin.PostTelemetry(
                Event("costcenter", "control-cc", "cost", 12.5, DateTimeOffset.UtcNow.AddMinutes(-5)),
                Event("pipeline", "control-p", "rows.out", 7, DateTimeOffset.UtcNow.AddMinutes(-5)));
            control = await Eventually.Until(() => admin.GetJsonOrNull("/api/v1/costcenters/control-cc"), j => j?["eventsApplied"]?.GetValue<long>() == 1)
                ?? throw new InvalidOperationException();

            var doc = await (await admin.GetAsync("/openapi/v1.json")).ReadJson();
            var operations = new List<(HttpMethod Method, string Path)>();
            foreach (var (path, item) in doc["paths"]!.AsObject())
            {
                foreach (var (method, _) in item!.AsObject())
                {
                    if (method is "get" or "post" or "put" or "delete") operations.Add((new HttpMethod(method.ToUpperInvariant()), path));
                }
            }
            Assert.True(operations.Count >= 20, $"only {operations.Count} operations in the OpenAPI document");
            var roles = clients.Keys.ToArray();

            for (var i = 0; i < requests; i++)
            {
                // A third of the requests go to telemetry ingestion, the surface producers (and attackers) hit most.
                string[] ingestion = ["/api/v1/telemetry", "/api/v1/telemetry", "/v1/metrics", "/api/v1/lineage", "/api/v1/costs/focus"];
                var (method, template) = random.Next(3) == 0 ? (HttpMethod.Post, ingestion[random.Next(ingestion.Length)]) : operations[random.Next(operations.Count)];
                if (template.EndsWith("/stream", StringComparison.Ordinal)) continue; // SSE never ends; covered by the alert feed tests
                var role = roles[random.Next(roles.Length)];
                using var request = BuildRequest(random, method, template);
                HttpResponseMessage response;
                try
                {
                    response = await clients[role].SendAsync(request);
                }
                catch (Exception ex)
                {
                    failures.Add($"{method} {request.RequestUri} as {role}: {ex.GetType().Name} {ex.Message}");
                    continue;
                }
                using (response)
                {
                    var code = (int)response.StatusCode;
                    statuses[code] = statuses.GetValueOrDefault(code) + 1;
                    if (code >= 500 && failures.Count < 20)
                    {
                        var sent = request.Content is null ? "" : Truncate(Encoding.UTF8.GetString(await request.Content.ReadAsByteArrayAsync()));
                        failures.Add($"{method} {request.RequestUri} as {role} → {code}: {Truncate(await response.Content.ReadAsStringAsync())}; body sent: {sent}");
                    }
                }
            }

            // Every view still answers after the fuzzing (state that can no longer be saved or read shows up here).
            foreach (var path in new[] { "/api/v1/value", "/api/v1/pipelines", "/api/v1/models", "/api/v1/costcenters", "/api/v1/datasets", "/api/v1/alerts", "/metrics",
                         "/api/v1/lineage?node=job:fuzz:f-1&depth=3", "/api/v1/costs/focus/periods" })
                Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(path)).StatusCode);
            if (failures.Count > 0) output.WriteLine(server.Output);
            await server.StopAsync();
        }

        output.WriteLine($"seed {seed}, {requests} requests; status counts: {string.Join(", ", statuses.Select(kv => $"{kv.Key}: {kv.Value}"))}");
        foreach (var f in failures) output.WriteLine(f);
        Assert.Empty(failures);

        // After a restart the control entities are intact and the views still load.
        await using var again = await ServerProcess.StartAsync(Environment(data));
        var client = Client(again, (await File.ReadAllTextAsync(Path.Combine(data, "bootstrap-admin.key"))).Trim());
        var after = await client.GetJsonOrNull("/api/v1/costcenters/control-cc");
        Assert.NotNull(after);
        Assert.Equal((double)control["costCenter"]!["spendTotal"]!, (double)after!["costCenter"]!["spendTotal"]!, 9);
        Assert.Equal(100.0, (double)after["metadata"]!["monthlyBudget"]!);
        var pipeline = await client.GetJsonOrNull("/api/v1/pipelines/control-p");
        Assert.Equal(7.0, (double)pipeline!["pipeline"]!["rowsOutTotal"]!);
        foreach (var path in new[] { "/api/v1/value", "/api/v1/pipelines", "/api/v1/models", "/api/v1/costcenters", "/api/v1/datasets", "/api/v1/alerts", "/api/v1/costs/focus/periods" })
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);
    }

    private static Dictionary<string, string> Environment(string data) => new()
    {
        ["AiOps__DataDirectory"] = data,
        ["AiOps__SiloPort"] = FreePorts.Next().ToString(),
        ["AiOps__GatewayPort"] = FreePorts.Next().ToString(),
    };

    private static HttpClient Client(ServerProcess server, string? key)
    {
        var client = new HttpClient { BaseAddress = server.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<string> CreateKeyAsync(HttpClient admin, string role)
    {
        var r = await admin.PostAsJsonAsync("/api/v1/keys", new { name = $"fuzz-{role}", role });
        r.EnsureSuccessStatusCode();
        return (string)(await r.ReadJson())["key"]!;
    }

    private static string Truncate(string s) => s.Length > 300 ? s[..300] + "…" : s;

    private static HttpRequestMessage BuildRequest(Random random, HttpMethod method, string template)
    {
        var path = new StringBuilder();
        foreach (var segment in template.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path.Append('/');
            if (segment.StartsWith('{')) path.Append(Uri.EscapeDataString(PathValue(random, segment.Trim('{', '}'))));
            else path.Append(segment);
        }
        if (random.Next(3) == 0) path.Append('?').Append(Query(random));
        var request = new HttpRequestMessage(method, path.ToString());
        if (method == HttpMethod.Post || method == HttpMethod.Put)
        {
            var body = Mutate(random, Seed(random, template));
            var gzip = template == "/api/v1/telemetry" && random.Next(8) == 0;
            if (gzip)
            {
                var compressed = new MemoryStream();
                using (var z = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                {
                    if (random.Next(4) == 0) z.Write(body, 0, body.Length / 2); // truncated gzip stream
                    else z.Write(body);
                }
                var bytes = compressed.ToArray();
                if (random.Next(4) == 0 && bytes.Length > 12) bytes[random.Next(10, bytes.Length)] ^= 0x5a; // corrupted
                request.Content = new ByteArrayContent(bytes);
                request.Content.Headers.ContentEncoding.Add("gzip");
            }
            else
            {
                request.Content = new ByteArrayContent(body);
            }
            var contentType = random.Next(10) < 6 && template == "/api/v1/costs/focus" ? "text/csv"
                : random.Next(10) < 3 && template == "/v1/metrics" ? "application/x-protobuf"
                : random.Next(10) switch
            {
                0 => "application/x-ndjson",
                1 => "text/csv",
                2 => null,
                3 => "application/json; charset=latin1",
                _ => "application/json",
            };
            if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        return request;
    }

    private static string PathValue(Random random, string name) => random.Next(6) switch
    {
        0 => $"f-{random.Next(10)}",
        1 => Kinds[random.Next(Kinds.Length)] + "-" + random.Next(20),
        2 => new string('a', random.Next(100, 400)),
        3 => new[] { "..", "a b", "é", "%", "\u0000x", "a/b", "😀", "-", "_", "1e308", "ack" }[random.Next(11)],
        4 => name == "metric" ? Metrics[random.Next(Metrics.Length)] : $"f-{random.Next(10)}",
        _ => Guid.NewGuid().ToString("N")[..random.Next(1, 32)],
    };

    private static string Query(Random random)
    {
        string[] keys = ["limit", "offset", "horizon", "resolution", "state", "kind", "minSeverity", "entityId", "entityKind", "since", "cursor", "after", "x"];
        string[] values = ["-1", "0", "1", "1000000", "99999999999999999999", "abc", "raw", "hour", "day", "open,resolved", "metricAnomaly", "critical",
            "control-cc", "", "%00", "2026-11-30T00:00:00Z", "1e308", "NaN"];
        return string.Join('&', Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
            $"{keys[random.Next(keys.Length)]}={Uri.EscapeDataString(values[random.Next(values.Length)])}"));
    }

    /// <summary>A valid body for the route, as a well-behaved client would send it.</summary>
    private static string Seed(Random random, string template)
    {
        // The control entities (control-cc, control-p) are never targets: they show that fuzzing others leaves them intact.
        var id = $"f-{random.Next(10)}";
        var kind = Kinds[random.Next(Kinds.Length)];
        var ts = DateTimeOffset.UtcNow.AddMinutes(-random.Next(0, 600)).ToString("O");
        return template switch
        {
            "/api/v1/telemetry" => random.Next(2) == 0
                ? "[" + string.Join(",", Enumerable.Range(0, random.Next(1, 6)).Select(_ =>
                    $"{{\"entity\":{{\"kind\":\"{kind}\",\"id\":\"{id}\"}},\"metric\":\"{Metrics[random.Next(Metrics.Length)]}\",\"value\":{random.Next(0, 1000)},\"timestamp\":\"{ts}\",\"id\":\"e{random.Next(100)}\",\"attributes\":{{\"service\":\"s3\",\"version\":\"v1\"}}}}")) + "]"
                : string.Join("\n", Enumerable.Range(0, random.Next(1, 6)).Select(_ =>
                    $"{{\"entity\":{{\"kind\":\"{kind}\",\"id\":\"{id}\"}},\"metric\":\"cost\",\"value\":{random.NextDouble() * 100:F3}}}")),
            "/v1/metrics" => $"{{\"resourceMetrics\":[{{\"resource\":{{\"attributes\":[{{\"key\":\"service.name\",\"value\":{{\"stringValue\":\"{id}\"}}}}]}},\"scopeMetrics\":[{{\"metrics\":[{{\"name\":\"latency\",\"unit\":\"ms\",\"gauge\":{{\"dataPoints\":[{{\"timeUnixNano\":\"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000}\",\"asDouble\":{random.Next(1, 500)}}}]}}}},{{\"name\":\"requests\",\"sum\":{{\"aggregationTemporality\":1,\"isMonotonic\":true,\"dataPoints\":[{{\"timeUnixNano\":\"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000}\",\"asInt\":\"{random.Next(1, 100)}\"}}]}}}}]}}]}}]}}",
            "/api/v1/costs/focus" => "BilledCost,BillingAccountId,BillingPeriodStart,ChargePeriodStart,ServiceName,BillingCurrency,Tags\n"
                + string.Join("\n", Enumerable.Range(0, random.Next(1, 5)).Select(_ => $"{random.NextDouble() * 10:F4},acct-{random.Next(3)},2026-11-01 00:00:00,2026-11-{random.Next(1, 29):D2} 00:00:00,\"Svc, {random.Next(5)}\",USD,\"{{\"\"aiops-model\"\":\"\"{id}\"\"}}\"")),
            "/api/v1/lineage" => $"{{\"eventType\":\"{new[] { "START", "COMPLETE", "FAIL", "ABORT", "RUNNING" }[random.Next(5)]}\",\"eventTime\":\"{ts}\",\"run\":{{\"runId\":\"{Guid.NewGuid()}\"}},\"job\":{{\"namespace\":\"fuzz\",\"name\":\"{id}\"}},\"inputs\":[{{\"namespace\":\"fuzz\",\"name\":\"in-{random.Next(3)}\"}}],\"outputs\":[{{\"namespace\":\"fuzz\",\"name\":\"out-{random.Next(3)}\"}}],\"producer\":\"https://example.com/fuzz\",\"schemaURL\":\"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent\"}}",
            "/api/v1/keys" => $"{{\"name\":\"fuzz-{random.Next(1000)}\",\"role\":\"{new[] { "reader", "operator", "admin", "ingest", "root" }[random.Next(5)]}\"}}",
            "/api/v1/silences" => $"{{\"matchers\":{{\"entityId\":\"{id}\"}},\"endsAt\":\"{DateTimeOffset.UtcNow.AddHours(1):O}\",\"comment\":\"fuzz\",\"entityId\":\"{id}\",\"kind\":\"metricAnomaly\"}}",
            "/api/v1/webhooks" => $"{{\"url\":\"http://127.0.0.1:{random.Next(1, 65535)}/hook\",\"minSeverity\":\"high\",\"kinds\":[\"metricAnomaly\"]}}",
            _ when template.EndsWith("/comments", StringComparison.Ordinal) => "{\"text\":\"looked at it\"}",
            _ when template.EndsWith("/ack", StringComparison.Ordinal) || template.EndsWith("/resolve", StringComparison.Ordinal) => "{\"comment\":\"ok\"}",
            _ => $"{{\"name\":\"n\",\"team\":\"t\",\"monthlyBudget\":{random.Next(0, 1000)},\"freshnessSlaSeconds\":60,\"maxErrorRate\":0.1,\"costCenterId\":\"{id}\",\"labels\":{{\"a\":\"b\"}},\"maxSilenceSeconds\":30}}",
        };
    }

    /// <summary>Zero to three mutations: token replacements (numbers, strings) and byte-level damage.</summary>
    private static byte[] Mutate(Random random, string seed)
    {
        var text = seed;
        var mutations = random.Next(0, 4);
        for (var m = 0; m < mutations; m++)
        {
            switch (random.Next(4))
            {
                case 0: text = ReplaceToken(random, text, numeric: true); break;
                case 1: text = ReplaceToken(random, text, numeric: false); break;
                case 2:
                    if (text.Length > 2)
                    {
                        var at = random.Next(text.Length);
                        text = random.Next(2) == 0 ? text.Remove(at, Math.Min(random.Next(1, 8), text.Length - at)) : text.Insert(at, text[..Math.Min(text.Length, random.Next(1, 40))]);
                    }
                    break;
                default:
                    if (random.Next(5) == 0) text = new string('[', random.Next(10, 3000)); // deep nesting
                    break;
            }
        }
        var bytes = Encoding.UTF8.GetBytes(text);
        if (random.Next(5) == 0 && bytes.Length > 0)
        {
            var at = random.Next(bytes.Length);
            var hostile = HostileBytes[random.Next(HostileBytes.Length)];
            bytes = [.. bytes[..at], .. hostile, .. bytes[at..]];
        }
        return bytes;
    }

    private static string ReplaceToken(Random random, string text, bool numeric)
    {
        var matches = numeric
            ? System.Text.RegularExpressions.Regex.Matches(text, @"(?<=:)-?\d+(\.\d+)?")
            : System.Text.RegularExpressions.Regex.Matches(text, "\"[^\"]*\"");
        if (matches.Count == 0) return text;
        var match = matches[random.Next(matches.Count)];
        var replacement = numeric ? HostileNumbers[random.Next(HostileNumbers.Length)] : HostileStrings[random.Next(HostileStrings.Length)];
        return text[..match.Index] + replacement + text[(match.Index + match.Length)..];
    }
}
