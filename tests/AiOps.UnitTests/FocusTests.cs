using System.Text;
using AiOps.Abstractions;
using AiOps.Abstractions.Focus;
using AiOps.Grains.Focus;
using AiOps.Server.Focus;

namespace AiOps.UnitTests;

public class FocusTests
{
    private static readonly CostAllocationRules Rules = new()
    {
        Rules =
        [
            new AllocationRule { Match = new AllocationMatch { TagKey = "app", TagValue = "lens" }, Model = "lens-model" },
            new AllocationRule { Match = new AllocationMatch { ServiceName = "EC2", ResourceIdPrefix = "i-etl" }, Pipeline = "etl", CostCenter = "cc-data" },
            new AllocationRule { Match = new AllocationMatch { ServiceName = "EC2" }, CostCenter = "cc-compute" },
            new AllocationRule { Match = new AllocationMatch(), CostCenterFromTag = "team" },
        ],
        DefaultCostCenters = new Dictionary<string, string> { ["acct-2"] = "cc-default" },
    };

    private static Allocation Allocate(CostAllocator allocator, string service, string resource = "", string account = "acct-1", params (string Key, string Value)[] tags)
    {
        var values = new string?[allocator.TagKeys.Length];
        foreach (var (k, v) in tags) values[Array.IndexOf(allocator.TagKeys, k)] = v;
        return allocator.Allocate(new FocusRowView
        {
            BillingAccountId = account,
            SubAccountId = null,
            ServiceName = service,
            ServiceCategory = null,
            ChargeCategory = null,
            ResourceId = resource,
            RegionId = default,
        }, values);
    }

    [Fact]
    public void TagsWinOverRulesAndTheFirstMatchingRuleFillsTheRest()
    {
        var a = new CostAllocator(Rules);
        Assert.Equal(new Allocation("cc-data", "m1", "etl", true), Allocate(a, "EC2", "i-etl-7", tags: (AllocationTags.Model, "m1")));
        Assert.Equal(new Allocation("cc-compute", null, null, true), Allocate(a, "EC2", "i-web-1"));
        Assert.Equal(new Allocation(null, "lens-model", null, true), Allocate(a, "EC2", "i-etl-7", tags: ("app", "lens")));
        Assert.Equal(new Allocation("team-a", null, null, true), Allocate(a, "S3", tags: (AllocationTags.Team, "team-a")));
        Assert.Equal(new Allocation("explicit", null, null, true), Allocate(a, "S3", tags: [(AllocationTags.Team, "team-a"), (AllocationTags.CostCenter, "explicit")]));
    }

    [Fact]
    public void TagDerivedCostCentersBecomeValidIdsAndAccountsFallBackToTheirDefault()
    {
        var a = new CostAllocator(Rules);
        Assert.Equal("Des-Moines-IT", Allocate(a, "S3", tags: ("team", "Des Moines/IT")).CostCenter);
        Assert.Equal("x-ops", Allocate(a, "S3", tags: ("team", " ops")).CostCenter);
        Assert.Equal(new Allocation("cc-default", null, null, true), Allocate(a, "S3", account: "acct-2"));
        Assert.Equal(new Allocation(null, null, null, false), Allocate(a, "S3"));
    }

    [Theory]
    [InlineData("2024-09-18 22:00:00", "2024-09-18T22:00:00Z")]
    [InlineData("2024-09-18T22:00:00Z", "2024-09-18T22:00:00Z")]
    [InlineData("2024-09-18T22:00:00.000+02:00", "2024-09-18T20:00:00Z")]
    [InlineData("2024-02-29", "2024-02-29T00:00:00Z")]
    public void FocusTimestampsAreReadAsUtc(string text, string expected)
    {
        Assert.True(FocusTimestamps.TryParse(text, out var ms));
        Assert.Equal(DateTimeOffset.Parse(expected).ToUnixTimeMilliseconds(), ms);
    }

    [Theory]
    [InlineData("2023-02-29 00:00:00")]
    [InlineData("2024-13-01 00:00:00")]
    [InlineData("2024-09-18 24:00:00")]
    [InlineData("yesterday")]
    public void InvalidTimestampsAreRefused(string text) => Assert.False(FocusTimestamps.TryParse(text, out _));

    [Fact]
    public void AReImportSendsOnlyDifferencesUnderIdsOfItsGeneration()
    {
        var day = 1_725_148_800_000L;
        List<FocusCostLine> first = [new(EntityKind.Model, "m", "EC2", day, 10), new(EntityKind.CostCenter, "cc", "S3", day, 5)];
        List<FocusCostLine> restated = [new(EntityKind.Model, "m", "EC2", day, 12), new(EntityKind.Pipeline, "p", "S3", day, 1)];

        Assert.Empty(FocusPeriodGrain.Differences("k", 2, first, [.. first], "USD"));
        var diff = FocusPeriodGrain.Differences("k", 3, first, restated, "USD");
        Assert.Equal(3, diff.Count);
        Assert.Equal(2, diff.Single(p => p.EntityId == "m").Value);
        Assert.Equal(-5, diff.Single(p => p.EntityId == "cc").Value);
        Assert.Equal(1, diff.Single(p => p.EntityId == "p").Value);
        Assert.Equal(restated.Sum(l => l.Amount) - first.Sum(l => l.Amount), diff.Sum(p => p.Value));

        // Sent again after a crash: the same ids (entities drop them); another generation: new ids.
        var again = FocusPeriodGrain.Differences("k", 3, first, restated, "USD");
        Assert.Equal(diff.Select(p => p.EventIdHash).Order(), again.Select(p => p.EventIdHash).Order());
        var next = FocusPeriodGrain.Differences("k", 4, first, restated, "USD");
        Assert.Empty(diff.Select(p => p.EventIdHash).Intersect(next.Select(p => p.EventIdHash)));
    }

    [Fact]
    public async Task TheReaderHandlesNullQuotesAndAggregatesByPeriod()
    {
        const string csv = """
            BilledCost,BillingAccountId,BillingPeriodStart,ChargePeriodStart,ServiceName,SubAccountId,Tags
            1.5,A,2024-09-01 00:00:00,2024-09-02 10:00:00,"Compute, general",S1,NULL
            2.5,A,2024-09-01 00:00:00,2024-09-02 11:00:00,"Compute, general",NULL,"{""aiops-model"": ""m1"", ""other"": {""x"": [1]}}"
            4,B,2024-10-01 00:00:00,2024-10-03 00:00:00,Storage,S2,
            oops,B,2024-10-01 00:00:00,2024-10-03 00:00:00,Storage,S2,NULL
            """;
        var reader = new FocusCsvReader(new CostAllocator(new CostAllocationRules()), DateTimeOffset.UtcNow);
        var result = await reader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), CancellationToken.None);
        Assert.Equal(4, result.RowsRead);
        Assert.Equal(1, result.RowsRejected);
        Assert.Equal(new FocusRowRejection(4, "BilledCost", "is not a number"), Assert.Single(result.Rejections));
        Assert.Equal(2, result.Periods.Count);
        var sept = result.Periods[0].ToImport(0);
        Assert.Equal(4.0, sept.Summary.BilledCost);
        Assert.Equal(4.0, sept.Summary.ByService["Compute, general"]);
        Assert.Equal(1.5, sept.Summary.BySubAccount["S1"]);
        Assert.Equal(2.5, sept.Summary.ByModel["m1"]);
        Assert.Equal(1.5, sept.Summary.Unallocated);
        Assert.Equal(2, sept.Lines.Length); // one day, two targets (the model and the unallocated cost center)
        Assert.Equal(4.0, result.Periods[1].ToImport(0).Summary.BilledCost);
    }

    [Fact]
    public async Task AMissingRequiredColumnRejectsTheWholeFile()
    {
        var reader = new FocusCsvReader(new CostAllocator(new CostAllocationRules()), DateTimeOffset.UtcNow);
        var ex = await Assert.ThrowsAsync<FocusFileException>(() =>
            reader.ReadAsync(new MemoryStream("BilledCost,BillingAccountId,ChargePeriodStart,ServiceName\n1,A,2024-09-01,EC2\n"u8.ToArray()), CancellationToken.None));
        Assert.Equal("BillingPeriodStart", ex.Field);
    }

    [Fact]
    public async Task AShortRowIsRejectedAndTheFileGoesOn()
    {
        var reader = new FocusCsvReader(new CostAllocator(new CostAllocationRules()), DateTimeOffset.UtcNow);
        var result = await reader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(
            "BilledCost,BillingAccountId,BillingPeriodStart,ChargePeriodStart,ServiceName\n1,A,2024-09-01,2024-09-02\n2,A,2024-09-01,2024-09-02,EC2\n")), CancellationToken.None);
        Assert.Equal(new FocusRowRejection(1, "row", "has 4 columns; the header has 5"), Assert.Single(result.Rejections));
        Assert.Equal(2.0, Assert.Single(result.Periods).Billed);
    }

    [Fact]
    public async Task MoreBillingPeriodsThanTheLimitRejectTheWholeFile()
    {
        var csv = new StringBuilder("BilledCost,BillingAccountId,BillingPeriodStart,ChargePeriodStart,ServiceName\n");
        for (var i = 0; i <= FocusLimits.MaxPeriods; i++) csv.Append($"1,acct-{i},2024-09-01,2024-09-02,EC2\n");
        var reader = new FocusCsvReader(new CostAllocator(new CostAllocationRules()), DateTimeOffset.UtcNow);
        var ex = await Assert.ThrowsAsync<FocusFileException>(() => reader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), CancellationToken.None));
        Assert.Equal("BillingPeriodStart", ex.Field);
    }

    [Fact]
    public async Task MoreDistinctCostLinesThanTheLimitRejectTheWholeFile()
    {
        // Distinct (entity, service, day) lines: 5,000 days × 101 services = 505,000 > 500,000.
        var csv = new StringBuilder("BilledCost,BillingAccountId,BillingPeriodStart,ChargePeriodStart,ServiceName\n");
        var day = new DateTime(2001, 1, 1);
        for (var d = 0; d < 5_000; d++)
        {
            var date = day.AddDays(d).ToString("yyyy-MM-dd");
            for (var s = 0; s < 101; s++) csv.Append("1,A,2024-09-01,").Append(date).Append(",s").Append(s).Append('\n');
        }
        var reader = new FocusCsvReader(new CostAllocator(new CostAllocationRules()), DateTimeOffset.UtcNow);
        var ex = await Assert.ThrowsAsync<FocusFileException>(() => reader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), CancellationToken.None));
        Assert.Equal("body", ex.Field);
        Assert.Contains("500000", ex.Message.Replace(",", ""));
    }
}
