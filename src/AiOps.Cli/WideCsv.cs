using System.Globalization;
using nietras.SeparatedValues;

namespace AiOps.Cli;

public sealed record WideSeries(string Id, double[] Values);

/// <summary>
/// M4 wide format `id,v1,v2,...` read with Sep (quoted or not, a quoted id may hold commas; header optional, trailing
/// empty cells ignored).
/// </summary>
public static class WideCsv
{
    public static List<WideSeries> Read(string path)
    {
        using var reader = CsvReaders.Open(path);
        return Parse(reader);
    }

    /// <summary>Every series of every file, in the order given.</summary>
    public static List<WideSeries> Read(IEnumerable<string> paths) => paths.SelectMany(Read).ToList();

    public static List<WideSeries> ParseText(string text)
    {
        using var reader = CsvReaders.Options.FromText(text);
        return Parse(reader);
    }

    private static List<WideSeries> Parse(SepReader reader)
    {
        var list = new List<WideSeries>();
        foreach (var row in reader)
        {
            if (CsvReaders.IsBlank(row)) continue;
            var vals = new List<double>(row.ColCount);
            bool numeric = true;
            for (int i = 1; i < row.ColCount; i++)
            {
                var c = CsvReaders.Cell(row, i);
                if (c.Length == 0) { vals.Add(double.NaN); continue; }
                if (double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) vals.Add(v);
                else if (c.Equals("NA", StringComparison.OrdinalIgnoreCase) || c.Equals("NaN", StringComparison.OrdinalIgnoreCase)) vals.Add(double.NaN);
                else { numeric = false; break; }
            }
            if (!numeric) continue; // header row
            int n = vals.Count;
            while (n > 0 && double.IsNaN(vals[n - 1])) n--; // ragged rows: trailing empties are padding
            list.Add(new WideSeries(CsvReaders.Cell(row, 0).ToString(), vals.Take(n).ToArray()));
        }
        return list;
    }
}
