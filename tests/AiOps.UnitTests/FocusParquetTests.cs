using System.Text;
using AiOps.Abstractions.Focus;
using AiOps.Server.Focus;
using Parquet;
using Parquet.Schema;

namespace AiOps.UnitTests;

public class FocusParquetTests
{
    private static readonly CostAllocationRules Rules = new()
    {
        Rules = [new AllocationRule { Match = new AllocationMatch { TagKey = "app", TagValue = "lens" }, Model = "lens-model" }],
    };

    /// <summary>A small FOCUS Parquet file: typed cost and time columns, nulls, two row groups.</summary>
    private static async Task<MemoryStream> WriteAsync(bool withService = true)
    {
        var billed = new DataField<double?>("BilledCost");
        var effective = new DecimalDataField("EffectiveCost", 18, 6, isNullable: true);
        var account = new DataField<string>("BillingAccountId", true);
        var period = new DateTimeDataField("BillingPeriodStart", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: true);
        var charge = new DateTimeDataField("ChargePeriodStart", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: true);
        var service = new DataField<string>("ServiceName", true);
        var tags = new DataField<string>("Tags", true);
        var fields = withService ? new DataField[] { billed, effective, account, period, charge, service, tags } : [billed, effective, account, period, charge, tags];
        var sept = new DateTime(2024, 9, 1, 0, 0, 0, DateTimeKind.Utc);
        var groups = new[]
        {
            // row 1: a model by tag, charged half a second before midnight (day 2024-09-02); row 2: no tags; row 3: BilledCost null
            (Billed: new double?[] { 1.25, 0.1, null }, Effective: new decimal?[] { 1.000001m, null, 3m }, Account: new[] { "A", "A", "A" },
             Charge: new DateTime?[] { new DateTime(2024, 9, 2, 23, 59, 59, 500, DateTimeKind.Utc), sept.AddDays(3), sept.AddDays(3) },
             Tags: new string?[] { """{"app": "lens"}""", null, null }),
            // row 4: another account; row 5: ChargePeriodStart null
            (Billed: new double?[] { 2.0, 5.0 }, Effective: new decimal?[] { 2m, 5m }, Account: new[] { "B", "B" },
             Charge: new DateTime?[] { sept.AddDays(10), null }, Tags: new string?[] { null, null }),
        };
        var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream))
        {
            foreach (var g in groups)
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(billed, (ReadOnlyMemory<double?>)g.Billed);
                await group.WriteAsync(effective, (ReadOnlyMemory<decimal?>)g.Effective);
                await group.WriteAsync(account, g.Account);
                await group.WriteAsync(period, (ReadOnlyMemory<DateTime?>)g.Account.Select(_ => (DateTime?)sept).ToArray());
                await group.WriteAsync(charge, (ReadOnlyMemory<DateTime?>)g.Charge);
                if (withService) await group.WriteAsync(service, g.Account.Select(a => a == "A" ? "EC2" : "S3").ToArray());
                await group.WriteAsync(tags, g.Tags!);
            }
        }
        return new MemoryStream(stream.ToArray()); // the writer closes its stream
    }

    [Fact]
    public async Task TypedParquetColumnsFoldLikeCsvWithRowNumbersAcrossRowGroups()
    {
        var reader = new FocusCsvReader(new CostAllocator(Rules), DateTimeOffset.UtcNow);
        var result = await reader.ReadParquetAsync(await WriteAsync(), CancellationToken.None);
        Assert.Equal(5, result.RowsRead);
        Assert.Equal([new FocusRowRejection(3, "BilledCost", "is required"), new FocusRowRejection(5, "ChargePeriodStart", "is not a date-time")], result.Rejections);
        Assert.Equal(2, result.Periods.Count);
        var a = result.Periods.Single(p => p.BillingAccountId == "A").ToImport(0);
        Assert.Equal(new DateTime(2024, 9, 1, 0, 0, 0, DateTimeKind.Utc), a.Summary.BillingPeriodStart);
        Assert.Equal(1.25 + 0.1, a.Summary.BilledCost);
        Assert.Equal(1.000001, a.Summary.EffectiveCost);
        Assert.Equal(1.25, a.Summary.ByModel["lens-model"]);
        Assert.Equal(0.1, a.Summary.Unallocated);
        var modelLine = Assert.Single(a.Lines, l => l.EntityId == "lens-model");
        Assert.Equal(new DateTimeOffset(2024, 9, 2, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), modelLine.DayMs); // an instant, UTC
        Assert.Equal(2.0, result.Periods.Single(p => p.BillingAccountId == "B").ToImport(0).Summary.ByService["S3"]);
    }

    [Fact]
    public async Task AParquetFileWithoutARequiredColumnNamesIt()
    {
        var reader = new FocusCsvReader(new CostAllocator(Rules), DateTimeOffset.UtcNow);
        var ex = await Assert.ThrowsAsync<FocusFileException>(async () => await reader.ReadParquetAsync(await WriteAsync(withService: false), CancellationToken.None));
        Assert.Equal("ServiceName", ex.Field);
    }

    [Fact]
    public async Task ACorruptParquetFileIsAFileErrorOnTheBody()
    {
        var good = (await WriteAsync()).ToArray();
        foreach (var bad in new[] { good[..(good.Length / 2)], "PAR1PAR1"u8.ToArray(), good.Select((b, i) => i >= 4 && i < good.Length / 2 ? (byte)0xFF : b).ToArray() })
        {
            var reader = new FocusCsvReader(new CostAllocator(Rules), DateTimeOffset.UtcNow);
            var ex = await Assert.ThrowsAsync<FocusFileException>(() => reader.ReadParquetAsync(new MemoryStream(bad), CancellationToken.None));
            Assert.Equal("body", ex.Field);
        }
    }

    [Fact]
    public async Task SniffedBytesAreGivenBackAndSpoolsAreBoundedAndDeleted()
    {
        Assert.True(FocusParquet.IsMagic("PAR1xyz"u8));
        Assert.False(FocusParquet.IsMagic("PAR"u8));
        Assert.False(FocusParquet.IsMagic("BilledCost"u8));

        var prefixed = new PrefixedStream("BilA"u8.ToArray(), 3, new MemoryStream("ledCost,x"u8.ToArray()));
        Assert.Equal("BilledCost,x", await new StreamReader(prefixed, Encoding.UTF8).ReadToEndAsync());

        var body = new byte[10_000];
        Assert.Null(await FocusParquet.SpoolAsync("PAR1"u8.ToArray(), new MemoryStream(body), 9_999, CancellationToken.None));
        var spooled = await FocusParquet.SpoolAsync("PAR1"u8.ToArray(), new MemoryStream(body), 10_004, CancellationToken.None);
        Assert.NotNull(spooled);
        Assert.Equal(10_004, spooled.Length);
        Assert.Equal(0, spooled.Position);
        var path = spooled.Name;
        Assert.True(File.Exists(path));
        await spooled.DisposeAsync();
        Assert.False(File.Exists(path));
    }
}
