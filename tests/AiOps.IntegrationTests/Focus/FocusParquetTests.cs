using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AiOps.IntegrationTests.Infrastructure;
using static AiOps.IntegrationTests.Infrastructure.Telemetry;

namespace AiOps.IntegrationTests.Focus;

/// <summary>
/// FOCUS Parquet imports against the real server: the sample CSV (parsed here) written as a typed Parquet file with
/// Parquet.Net gives the file's totals; the CSV of the same periods afterwards replaces them with identical totals;
/// rejections match the CSV path row for row; a missing column or a corrupt file is a 400 that applies nothing.
/// </summary>
public sealed class FocusParquetTests
{
    private const string Month = "2024-09";

    private static ByteArrayContent Parquet(byte[] bytes, string contentType = "application/vnd.apache.parquet")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    private static async Task<JsonNode> ImportAsync(HttpClient client, HttpContent content)
    {
        var r = await client.PostAsync("/api/v1/costs/focus", content);
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"import answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        return await r.ReadJson();
    }

    /// <summary>A summary without the parts that differ between two imports of the same rows (generation, time).</summary>
    private static string Totals(JsonNode summary)
    {
        var copy = summary.DeepClone().AsObject();
        copy.Remove("imports");
        return copy.ToJsonString();
    }

    [Fact]
    public async Task ParquetTotalsEqualTheFileAndTheSamePeriodsAsCsvAfterwardsChangeNothing()
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/api/v1/costs/allocation-rules", FocusImportTests.Rules)).StatusCode);
        var file = FocusFile.Sample();
        var parquet = await FocusParquetFile.WriteAsync(file, rowGroupSize: 300); // four row groups

        var first = await ImportAsync(client, Parquet(parquet));
        Assert.Equal(1000, (long)first["rowsRead"]!);
        Assert.Equal(0, (long)first["rowsRejected"]!);
        Assert.True((long)first["rowsMapped"]! > 0 && (long)first["rowsUnmapped"]! > 0, "the rules map some rows of the sample, not all");
        Assert.All(first["periods"]!.AsArray(), p => Assert.False((bool)p!["replaced"]!));

        var afterParquet = new Dictionary<string, string>();
        foreach (var month in file.Months)
        {
            var summary = await FocusImportTests.SummaryAsync(client, month);
            FocusImportTests.AssertFileTotals(file, summary, month);
            afterParquet[month] = Totals(summary);
        }
        var sept = await FocusImportTests.SummaryAsync(client, Month);
        var pathRows = file.InPeriod(Month).Where(r => r["Tags"].Contains("\"application\": \"BrightPathMatrix\"")).Sum(FocusFile.Cost);
        Assert.Equal(pathRows, (double)sept["byModel"]!["brightpath"]!, 9);

        // The CSV of the same periods replaces each of them, and every total stays what the Parquet import made it.
        var second = await ImportAsync(client, new StringContent(await File.ReadAllTextAsync(FocusFile.SamplePath), Encoding.UTF8, "text/csv"));
        Assert.All(second["periods"]!.AsArray(), p => Assert.True((bool)p!["replaced"]!));
        Assert.Equal((long)first["rowsMapped"]!, (long)second["rowsMapped"]!);
        Assert.Equal((long)first["rowsUnmapped"]!, (long)second["rowsUnmapped"]!);
        foreach (var month in file.Months)
            Assert.Equal(afterParquet[month], Totals(await FocusImportTests.SummaryAsync(client, month)));
    }

    [Fact]
    public async Task BadParquetRowsAreRejectedExactlyLikeTheSameCsvRows()
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        var file = FocusFile.Sample();
        var rows = file.Rows;
        rows[5]["ChargePeriodStart"] = "NULL";
        rows[7]["Tags"] = "{not json";
        rows[9]["BilledCost"] = "NULL";
        rows[11]["Tags"] = """{"aiops-model": "has a space"}""";
        rows[13]["EffectiveCost"] = "1e16";
        rows[15]["ChargePeriodStart"] = DateTime.UtcNow.AddDays(3).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        rows[17]["BillingCurrency"] = "EUR";

        // Sent as octet-stream: recognised by its PAR1 magic.
        var fromParquet = await ImportAsync(client, Parquet(await FocusParquetFile.WriteAsync(file, rowGroupSize: 7), "application/octet-stream"));
        Assert.Equal(7, (long)fromParquet["rowsRejected"]!);
        var rejections = fromParquet["rejections"]!.AsArray().Select(x => ((long)x!["row"]!, (string)x["column"]!)).ToList();
        Assert.Equal([(6L, "ChargePeriodStart"), (8L, "Tags"), (10L, "BilledCost"), (12L, "Tags"), (14L, "EffectiveCost"), (16L, "ChargePeriodStart"), (18L, "BillingCurrency")], rejections);
        var accepted = new FocusFile(file.Header, rows.Where((_, i) => i is not (5 or 7 or 9 or 11 or 13 or 15 or 17)).ToList());
        FocusImportTests.AssertFileTotals(accepted, await FocusImportTests.SummaryAsync(client, Month), Month);

        var fromCsv = await ImportAsync(client, new StringContent(file.Write(), Encoding.UTF8, "text/csv"));
        Assert.Equal(fromCsv["rejections"]!.ToJsonString(), fromParquet["rejections"]!.ToJsonString());
        Assert.Equal(fromCsv["rejectedByReason"]!.ToJsonString(), fromParquet["rejectedByReason"]!.ToJsonString());
    }

    [Theory]
    [InlineData("ServiceName")]
    [InlineData("BilledCost")]
    [InlineData("ChargePeriodStart")]
    public async Task AParquetFileWithoutARequiredColumnIsA400NamingIt(string column)
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        var r = await client.PostAsync("/api/v1/costs/focus",
            Parquet(await FocusParquetFile.WriteAsync(FocusFile.Sample(), without: [column]), "application/x-parquet"));
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var problem = await r.ReadJson();
        Assert.Contains(column, (string)problem["errors"]![column]![0]!);
        Assert.Empty((await client.GetJsonOrNull("/api/v1/costs/focus/periods"))!.AsArray());
    }

    public static TheoryData<string> Corruptions => ["truncated", "pages overwritten", "magic and garbage"];

    [Theory]
    [MemberData(nameof(Corruptions))]
    public async Task ACorruptParquetBodyIsA400AndAppliesNothing(string corruption)
    {
        await using var app = new AiOpsAppFactory();
        var client = app.CreateClient();
        var good = await FocusParquetFile.WriteAsync(FocusFile.Sample(), rowGroupSize: 250);
        var bad = corruption switch
        {
            "truncated" => good[..(good.Length * 2 / 3)],
            "pages overwritten" => good.Select((b, i) => i >= 4 && i < good.Length / 2 ? (byte)0xFF : b).ToArray(),
            _ => [.. "PAR1"u8, .. Enumerable.Range(0, 5000).Select(i => (byte)(i * 31)), .. "PAR1"u8],
        };
        var r = await client.PostAsync("/api/v1/costs/focus", Parquet(bad));
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{corruption}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        var problem = await r.ReadJson();
        Assert.NotNull(problem["errors"]!["body"]);
        Assert.Empty((await client.GetJsonOrNull("/api/v1/costs/focus/periods"))!.AsArray());
        // The same server then imports the intact file.
        await ImportAsync(client, Parquet(good));
        Assert.Contains((await client.GetJsonOrNull("/api/v1/costs/focus/periods"))!.AsArray(), p => ((string)p!["billingPeriodStart"]!).StartsWith(Month));
    }
}
