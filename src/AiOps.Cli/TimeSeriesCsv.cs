using System.Globalization;
using nietras.SeparatedValues;

namespace AiOps.Cli;

public sealed record TimeSeriesRow(DateTime Timestamp, double Value, string RawTimestamp, string RawValue);

/// <summary>
/// Reads `timestamp,value` CSV with Sep (RFC 4180 quoting, so a quoted field may hold commas; header optional, extra
/// columns and blank lines ignored). The raw timestamp/value text (trimmed, unquoted) is kept for the output file.
/// </summary>
public static class TimeSeriesCsv
{
    public static List<TimeSeriesRow> Read(string path)
    {
        using var reader = CsvReaders.Open(path);
        return Parse(reader);
    }

    public static List<TimeSeriesRow> ParseText(string text)
    {
        using var reader = CsvReaders.Options.FromText(text);
        return Parse(reader);
    }

    private static List<TimeSeriesRow> Parse(SepReader reader)
    {
        var rows = new List<TimeSeriesRow>();
        bool first = true;
        foreach (var row in reader)
        {
            if (CsvReaders.IsBlank(row)) continue;
            var tsSpan = CsvReaders.Cell(row, 0);
            if (!DateTime.TryParse(tsSpan, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
            {
                if (first) { first = false; continue; } // header
                throw new FormatException($"bad timestamp '{tsSpan}' on line {row.LineNumberFrom}");
            }
            first = false;
            var valSpan = row.ColCount > 1 ? CsvReaders.Cell(row, 1) : default;
            double v = double.TryParse(valSpan, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : double.NaN;
            rows.Add(new TimeSeriesRow(t, v, tsSpan.ToString(), valSpan.ToString()));
        }
        return rows;
    }
}

/// <summary>The one Sep configuration the CLI reads with: comma separator, no header handling, ragged rows allowed.</summary>
internal static class CsvReaders
{
    public static readonly SepReaderOptions Options = new(new Sep(','))
    {
        HasHeader = false,
        Unescape = true,
        DisableColCountCheck = true,
    };

    public static SepReader Open(string path) => Options.FromFile(path);

    /// <summary>A cell trimmed of white space and of quotes left around it (`"x"` with spaces outside the quotes).</summary>
    public static ReadOnlySpan<char> Cell(SepReader.Row row, int index) => row[index].Span.Trim().Trim('"');

    public static bool IsBlank(SepReader.Row row) => row.ColCount == 1 && row[0].Span.IsWhiteSpace();
}
