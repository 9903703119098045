using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace AiOps.IntegrationTests.Focus;

/// <summary>
/// Writes a <see cref="FocusFile"/> (parsed from CSV by the tests) as Parquet with Parquet.Net, typed the way FOCUS
/// exports are: BilledCost decimal, EffectiveCost and ListCost double, the period columns UTC timestamps, the rest
/// strings (<c>NULL</c> written as a null cell), split into row groups.
/// </summary>
public static class FocusParquetFile
{
    private static readonly string[] Timestamps = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"];

    public static async Task<byte[]> WriteAsync(FocusFile file, int rowGroupSize = 400, IEnumerable<string>? without = null)
    {
        var columns = file.Header.Except(without ?? []).ToList();
        var fields = columns.Select(Field).ToList();
        using var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream))
        {
            foreach (var chunk in file.Rows.Chunk(rowGroupSize))
            {
                using var group = writer.CreateRowGroup();
                foreach (var field in fields)
                {
                    string? Cell(Dictionary<string, string> row) => row[field.Name] is "NULL" or "" ? null : row[field.Name];
                    switch (field.Name)
                    {
                        case "BilledCost":
                            await group.WriteAsync(field, (ReadOnlyMemory<decimal?>)chunk.Select(r => Cell(r) is { } v ? decimal.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture) : (decimal?)null).ToArray());
                            break;
                        case "EffectiveCost" or "ListCost":
                            await group.WriteAsync(field, (ReadOnlyMemory<double?>)chunk.Select(r => Cell(r) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : (double?)null).ToArray());
                            break;
                        case var name when Timestamps.Contains(name):
                            await group.WriteAsync(field, (ReadOnlyMemory<DateTime?>)chunk.Select(r => Cell(r) is { } v
                                ? DateTime.Parse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)
                                : (DateTime?)null).ToArray());
                            break;
                        default:
                            await group.WriteAsync(field, chunk.Select(Cell).ToArray()!);
                            break;
                    }
                }
            }
        }
        return stream.ToArray();
    }

    private static DataField Field(string name) => name switch
    {
        "BilledCost" => new DecimalDataField(name, 28, 12, isNullable: true),
        "EffectiveCost" or "ListCost" => new DataField<double?>(name),
        _ when Timestamps.Contains(name) => new DateTimeDataField(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: true),
        _ => new DataField<string>(name, true),
    };
}
