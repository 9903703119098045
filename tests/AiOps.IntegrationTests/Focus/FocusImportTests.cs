using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests.Focus;

/// <summary>
/// FOCUS cost imports against the real server: totals equal the file (summed here, independently of the server's
/// reader), a second import of the same file changes nothing, a restated file replaces its period, bad files change nothing.
/// </summary>
public sealed class FocusImportTests
{
    private const string Month = "2024-09";

    /// <summary>A model by tag value, a pipeline + cost center by service, teams from the business_unit tag, an account default.</summary>
    public static readonly object Rules = new
    {
        rules = new object[]
        {
            new { name = "path model", match = new { tagKey = "application", tagValue = "BrightPathMatrix" }, model = "brightpath" },
            new { name = "rds etl", match = new { serviceName = "Amazon Relational Database Service" }, pipeline = "orders-etl", costCenter = "cc-data" },
            new { name = "teams", match = new { tagKey = "business_unit" }, costCenterFromTag = "business_unit" },
        },
        defaultCostCenters = new Dictionary<string, string> { ["20209880"] = "cc-oci" },
    };

    private static StringContent Csv(string text) => new(text, Encoding.UTF8, "text/csv");

    private static async Task<JsonNode> ImportAsync(HttpClient client, string csv)
    {
        var r = await client.PostAsync("/api/v1/costs/focus", Csv(csv));
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"import answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        return await r.ReadJson();
    }

    internal static async Task<JsonNode> SummaryAsync(HttpClient client, string month)
    {
        var r = await client.GetAsync($"/api/v1/costs/focus/summary?billingPeriod={month}");
        Assert.True(r.IsSuccessStatusCode, $"summary answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        return await r.ReadJson();
    }

    private static void AssertSameTotals(IReadOnlyDictionary<string, double> expected, JsonNode? actual, string what)
    {
        var map = actual!.AsObject().ToDictionary(kv => kv.Key, kv => (double)kv.Value!);
        Assert.True(expected.Count == map.Count, $"{what}: {map.Count} keys, the file has {expected.Count}");
        foreach (var (key, sum) in expected)
        {
            Assert.True(map.TryGetValue(key, out var got), $"{what}: '{key}' missing");
            Assert.True(Math.Abs(got - sum) <= 1e-9 * Math.Max(1, Math.Abs(sum)), $"{what} '{key}': {got:R}, the file sums to {sum:R}");
        }
    }

    internal static void AssertFileTotals(FocusFile file, JsonNode summary, string month)
    {
        AssertSameTotals(file.SumBy(month, "ServiceName"), summary["byService"], "by service");
        AssertSameTotals(file.SumBy(month, "SubAccountId"), summary["bySubAccount"], "by sub-account");
        AssertSameTotals(file.SumBy(month, "BillingAccountId"), summary["byBillingAccount"], "by billing account");
        Assert.Equal(file.InPeriod(month).Sum(FocusFile.Cost), (double)summary["billedCost"]!, 9);
        Assert.Equal(file.InPeriod(month).Count(), (long)summary["rows"]!);
    }

    /// <summary>Entities a summary allocated cost to, as (route, id).</summary>
    private static IEnumerable<(string, string)> Targets(JsonNode summary) =>
        summary["byModel"]!.AsObject().Select(kv => ("models", kv.Key))
            .Concat(summary["byPipeline"]!.AsObject().Select(kv => ("pipelines", kv.Key)))
            .Concat(summary["byCostCenter"]!.AsObject().Where(kv => kv.Key != "(none)").Select(kv => ("costcenters", kv.Key)));

    private static async Task<double> EntityCostAsync(HttpClient client, IEnumerable<(string Route, string Id)> entities)
    {
        var total = 0.0;
        foreach (var (route, id) in entities.Distinct())
        {
            var e = await client.GetJsonOrNull($"/api/v1/{route}/{Uri.EscapeDataString(id)}");
            var cost = e?["metrics"]?.AsArray().FirstOrDefault(m => (string)m!["name"]! == "cost");
            total += cost is null ? 0 : (double)cost["total"]!;
        }
        return total;
    }

    [Fact]
    public async Task SampleTotalsEqualTheFileAndASecondImportChangesNothing()
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/api/v1/costs/allocation-rules", Rules)).StatusCode);
        var file = FocusFile.Sample();
        var csv = await File.ReadAllTextAsync(FocusFile.SamplePath);

        var first = await ImportAsync(client, csv);
        Assert.Equal(1000, (long)first["rowsRead"]!);
        Assert.Equal(0, (long)first["rowsRejected"]!);
        Assert.Equal(1000, (long)first["rowsMapped"]! + (long)first["rowsUnmapped"]!);
        Assert.True((long)first["rowsUnmapped"]! > 0, "some rows of the sample match no rule");
        Assert.All(first["periods"]!.AsArray(), p => Assert.False((bool)p!["replaced"]!));
        Assert.Equal(1, (int)first["rulesVersion"]!);

        var summaries = new Dictionary<string, JsonNode>();
        foreach (var month in file.Months)
        {
            summaries[month] = await SummaryAsync(client, month);
            AssertFileTotals(file, summaries[month], month);
        }
        // Allocation, checked against the file: the model rule's rows, and what no rule took.
        var sept = summaries[Month];
        var pathRows = file.InPeriod(Month).Where(r => r["Tags"].Contains("\"application\": \"BrightPathMatrix\"")).Sum(FocusFile.Cost);
        Assert.Equal(pathRows, (double)sept["byModel"]!["brightpath"]!, 9);
        Assert.Equal((double)sept["unallocated"]!, (double)sept["byCostCenter"]!["unallocated"]!, 12);
        // A team label that is not an id ("Des MoinesIT") becomes one.
        Assert.NotNull(sept["byCostCenter"]!["Des-MoinesIT"]);

        var fileTotal = file.Rows.Sum(FocusFile.Cost);
        var targets = summaries.Values.SelectMany(Targets).ToList();
        await Eventually.Until(() => EntityCostAsync(client, targets), t => Math.Abs(t - fileTotal) < 1e-9, because: "entity cost totals equal the file");

        // The value view shows cost per model, pipeline and team with the unallocated share.
        var value = await client.GetJsonOrNull("/api/v1/value");
        var view = value!["costAllocation"]!.AsArray().Single(v => (string)v!["billingPeriod"]! == Month)!;
        Assert.Equal((double)sept["billedCost"]!, (double)view["total"]!, 9);
        Assert.Equal((double)sept["unallocated"]!, (double)view["unallocated"]!, 9);
        Assert.Equal((double)sept["unallocated"]! / (double)sept["billedCost"]!, (double)view["unallocatedShare"]!, 9);
        Assert.Contains(view["byModel"]!.AsArray(), m => (string)m!["key"]! == "brightpath");
        Assert.Contains(view["byPipeline"]!.AsArray(), m => (string)m!["key"]! == "orders-etl");
        Assert.Contains(view["byTeam"]!.AsArray(), m => (string)m!["key"]! == "PeoriaData" || (string)m!["key"]! == "TempeAI");

        // Again: every period is replaced by itself, no difference is sent, totals stay.
        var second = await ImportAsync(client, csv);
        Assert.All(second["periods"]!.AsArray(), p =>
        {
            Assert.True((bool)p!["replaced"]!);
            Assert.Equal(2, (int)p["generation"]!);
            Assert.Equal(0, (int)p["pointsSent"]!);
        });
        foreach (var month in file.Months) AssertFileTotals(file, await SummaryAsync(client, month), month);
        await Task.Delay(500);
        Assert.Equal(fileTotal, await EntityCostAsync(client, targets), 9);
    }

    [Fact]
    public async Task ARestatedFileReplacesItsPeriod()
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/api/v1/costs/allocation-rules", Rules)).StatusCode);
        var original = FocusFile.Sample();
        await ImportAsync(client, original.Write());
        var before = await SummaryAsync(client, Month);

        // The provider restates September: EC2 doubles, Kubernetes on Azure disappears, some rows move to a model by tag.
        var restated = FocusFile.Sample();
        restated.Rows.RemoveAll(r => r["BillingPeriodStart"].StartsWith(Month) && r["ServiceName"] == "Azure Kubernetes Service");
        var tagged = 0;
        foreach (var r in restated.InPeriod(Month))
        {
            if (r["ServiceName"] == "Amazon Elastic Compute Cloud")
                r["BilledCost"] = (FocusFile.Cost(r) * 2).ToString("R", CultureInfo.InvariantCulture);
            if (r["Tags"] == "NULL" && tagged++ < 20) r["Tags"] = """{"aiops-model": "restated-model", "aiops-team": "ml"}""";
        }
        Assert.True(tagged > 0);

        var reply = await ImportAsync(client, restated.Write());
        Assert.Contains(reply["periods"]!.AsArray(), p => (bool)p!["replaced"]! && (int)p["pointsSent"]! > 0);
        var after = await SummaryAsync(client, Month);
        AssertFileTotals(restated, after, Month);
        Assert.False(after["byService"]!.AsObject().ContainsKey("Azure Kubernetes Service"));
        Assert.Equal(restated.InPeriod(Month).Where(r => r["Tags"].Contains("restated-model")).Sum(FocusFile.Cost), (double)after["byModel"]!["restated-model"]!, 12);
        Assert.True((double)after["byCostCenter"]!["ml"]! >= 0);

        // Entities (old targets and new) add up to the restated file, not to both files.
        var targets = Targets(before).Concat(Targets(after)).Concat(Targets(await SummaryAsync(client, "2024-10"))).ToList();
        var restatedTotal = restated.Rows.Sum(FocusFile.Cost);
        await Eventually.Until(() => EntityCostAsync(client, targets), t => Math.Abs(t - restatedTotal) < 1e-9,
            because: $"entity totals equal the restated file ({restatedTotal:R}), not the sum of both ({restatedTotal + original.Rows.Sum(FocusFile.Cost):R})");
    }

    [Fact]
    public async Task TheLedgerSurvivesARestartSoAReImportStillChangesNothing()
    {
        var data = TempDirectory.Create("aiops-focus-restart");
        var csv = await File.ReadAllTextAsync(FocusFile.SamplePath);
        await using (var app = new AiOpsAppFactory(data))
            await ImportAsync(app.CreateClient(), csv);

        await using var again = new AiOpsAppFactory(data);
        var client = again.CreateClient();
        var reply = await ImportAsync(client, csv);
        Assert.All(reply["periods"]!.AsArray(), p =>
        {
            Assert.Equal(2, (int)p!["generation"]!);
            Assert.Equal(0, (int)p["pointsSent"]!);
        });
        AssertFileTotals(FocusFile.Sample(), await SummaryAsync(client, Month), Month);
    }

    [Fact]
    public async Task GzipBodiesImportTheSameTotals()
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        var file = FocusFile.Sample();
        using var buffer = new MemoryStream();
        await using (var gz = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            await gz.WriteAsync(await File.ReadAllBytesAsync(FocusFile.SamplePath));
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Headers.ContentEncoding.Add("gzip");
        var r = await client.PostAsync("/api/v1/costs/focus", content);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        AssertFileTotals(file, await SummaryAsync(client, Month), Month);
        // Everything the reply does not report: rows went to the unallocated cost center (no rules were set).
        var reply = await r.ReadJson();
        Assert.Equal(1000, (long)reply["rowsUnmapped"]!);
    }

    [Fact]
    public async Task BadRowsAreRejectedWithReasonsAndTheRestIsImported()
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        var file = FocusFile.Sample();
        var rows = file.Rows;
        rows[2]["BilledCost"] = "twelve";
        rows[5]["ChargePeriodStart"] = "yesterday";
        rows[7]["Tags"] = "{not json";
        rows[9]["BilledCost"] = "NULL";
        rows[11]["Tags"] = """{"aiops-model": "has a space"}""";
        rows[13]["EffectiveCost"] = "1e16";
        rows[15]["ChargePeriodStart"] = DateTime.UtcNow.AddDays(3).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        rows[17]["BillingCurrency"] = "EUR";
        rows[19]["Tags"] = """{"aiops-\ud800": "x", "\udc00": "y"}"""; // lone surrogate escapes
        var bad = new HashSet<int> { 2, 5, 7, 9, 11, 13, 15, 17, 19 };
        var reply = await ImportAsync(client, file.Write());
        Assert.Equal(1000, (long)reply["rowsRead"]!);
        Assert.Equal(9, (long)reply["rowsRejected"]!);
        var rejections = reply["rejections"]!.AsArray().Select(x => ((long)x!["row"]!, (string)x["column"]!)).ToList();
        Assert.Equal([(3L, "BilledCost"), (6L, "ChargePeriodStart"), (8L, "Tags"), (10L, "BilledCost"), (12L, "Tags"), (14L, "EffectiveCost"), (16L, "ChargePeriodStart"), (18L, "BillingCurrency"), (20L, "Tags")], rejections);
        Assert.Equal(1, (long)reply["rejectedByReason"]!["ChargePeriodStart: is in the future"]!);
        Assert.Equal(1, (long)reply["rejectedByReason"]!["EffectiveCost: is beyond ±1e15"]!);
        Assert.Equal(1, (long)reply["rejectedByReason"]!["BilledCost: is not a number"]!);
        Assert.Equal(1, (long)reply["rejectedByReason"]!["BilledCost: is required"]!);

        // Nothing beyond what the reply reports: totals are those of the rows it accepted.
        var accepted = new FocusFile(file.Header, rows.Where((_, i) => !bad.Contains(i)).ToList());
        AssertFileTotals(accepted, await SummaryAsync(client, Month), Month);
    }

    public static TheoryData<string, string, string, HttpStatusCode> WhollyBadFiles => new()
    {
        // name, body, content type, expected status (the field named is checked in the test)
        { "missing BilledCost column", "BillingAccountId,BillingPeriodStart,ChargePeriodStart,ServiceName\n1,2024-09-01 00:00:00,2024-09-02 00:00:00,EC2\n", "text/csv", HttpStatusCode.BadRequest },
        { "missing ServiceName column", "BilledCost,BillingAccountId,BillingPeriodStart,ChargePeriodStart\n1,1,2024-09-01 00:00:00,2024-09-02 00:00:00\n", "text/csv", HttpStatusCode.BadRequest },
        { "empty body", "", "text/csv", HttpStatusCode.BadRequest },
        { "header only", "BilledCost,BillingAccountId,BillingPeriodStart,ChargePeriodStart,ServiceName\n", "text/csv", HttpStatusCode.BadRequest },
        { "no valid row", "BilledCost,BillingAccountId,BillingPeriodStart,ChargePeriodStart,ServiceName\nx,1,2024-09-01 00:00:00,2024-09-02 00:00:00,EC2\n", "text/csv", HttpStatusCode.BadRequest },
        { "JSON", "{\"a\":1}", "application/json", HttpStatusCode.UnsupportedMediaType },
        { "Parquet that is only its magic", "PAR1", "application/vnd.apache.parquet", HttpStatusCode.BadRequest },
    };

    [Theory]
    [MemberData(nameof(WhollyBadFiles))]
    public async Task AWhollyBadFileGetsProblemDetailsAndChangesNothing(string name, string body, string contentType, HttpStatusCode status)
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        var r = await client.PostAsync("/api/v1/costs/focus", new StringContent(body, Encoding.UTF8, contentType));
        Assert.True(r.StatusCode == status, $"{name}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var problem = await r.ReadJson();
        if (name.StartsWith("missing "))
        {
            var column = name.Split(' ')[1];
            Assert.NotNull(problem["errors"]![column]);
        }
        var periods = await client.GetJsonOrNull("/api/v1/costs/focus/periods");
        Assert.Empty(periods!.AsArray());
    }

    [Fact]
    public async Task InvalidGzipIsABadRequestAndChangesNothing()
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        var content = new ByteArrayContent("BilledCost,not gzip"u8.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Headers.ContentEncoding.Add("gzip");
        var r = await client.PostAsync("/api/v1/costs/focus", content);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Empty((await client.GetJsonOrNull("/api/v1/costs/focus/periods"))!.AsArray());
    }

    [Fact]
    public async Task AllocationRulesAreValidatedAndOnlyOperatorsChangeThem()
    {
        await using var app = new AiOpsAppFactory();
        var admin = app.CreateClient();
        var r = await admin.PutJson("/api/v1/costs/allocation-rules", new
        {
            rules = new object[]
            {
                new { match = new { serviceName = "EC2" }, costCenter = "has a space" },
                new { match = new { tagValue = "x" }, model = "m" },
                new { match = new { serviceName = "S3" } },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var errors = (await r.ReadJson())["errors"]!.AsObject();
        Assert.NotNull(errors["rules[0].costCenter"]);
        Assert.NotNull(errors["rules[1].match.tagValue"]);
        Assert.NotNull(errors["rules[2]"]);
        Assert.Equal(0, (int)(await admin.GetJsonOrNull("/api/v1/costs/allocation-rules"))!["version"]!);

        var reader = await app.CreateClientWithRoleAsync("reader");
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PutJson("/api/v1/costs/allocation-rules", Rules)).StatusCode);
        var op = await app.CreateClientWithRoleAsync("operator");
        Assert.Equal(HttpStatusCode.OK, (await op.PutJson("/api/v1/costs/allocation-rules", Rules)).StatusCode);
        var stored = await reader.GetJsonOrNull("/api/v1/costs/allocation-rules");
        Assert.Equal(1, (int)stored!["version"]!);
        Assert.Equal("brightpath", (string)stored["rules"]![0]!["model"]!);
    }

    [Fact]
    public async Task SummaryNeedsABillingPeriod()
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        var r = await client.GetAsync("/api/v1/costs/focus/summary");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.NotNull((await r.ReadJson())["errors"]!["billingPeriod"]);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/costs/focus/summary?billingPeriod=2031-01")).StatusCode);
    }
}
