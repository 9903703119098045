using System.Globalization;

namespace AiOps.Cli;

public sealed record TimeSeriesRow(DateTime Timestamp, double Value, string RawTimestamp, string RawValue);

/// <summary>Reads `timestamp,value` CSV (header optional; extra columns ignored).</summary>
public static class TimeSeriesCsv
{
    public static List<TimeSeriesRow> Parse(IEnumerable<string> lines)
    {
        var rows = new List<TimeSeriesRow>();
        bool first = true;
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split(',');
            var ts = parts[0].Trim().Trim('"');
            var val = parts.Length > 1 ? parts[1].Trim().Trim('"') : "";
            if (!DateTime.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
            {
                if (first) { first = false; continue; } // header
                throw new FormatException($"bad timestamp '{ts}'");
            }
            first = false;
            double v = double.TryParse(val, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : double.NaN;
            rows.Add(new TimeSeriesRow(t, v, ts, val));
        }
        return rows;
    }
}
