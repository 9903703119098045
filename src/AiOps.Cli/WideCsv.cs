using System.Globalization;

namespace AiOps.Cli;

public sealed record WideSeries(string Id, double[] Values);

/// <summary>M4 wide format: `id,v1,v2,...` (quoted or not, header optional, trailing empty cells ignored).</summary>
public static class WideCsv
{
    public static List<WideSeries> Read(string path)
    {
        var list = new List<WideSeries>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var cells = line.Split(',');
            var id = cells[0].Trim().Trim('"');
            var vals = new List<double>(cells.Length);
            bool numeric = true;
            for (int i = 1; i < cells.Length; i++)
            {
                var c = cells[i].Trim().Trim('"');
                if (c.Length == 0) { vals.Add(double.NaN); continue; }
                if (double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) vals.Add(v);
                else if (c.Equals("NA", StringComparison.OrdinalIgnoreCase) || c.Equals("NaN", StringComparison.OrdinalIgnoreCase)) vals.Add(double.NaN);
                else { numeric = false; break; }
            }
            if (!numeric) continue; // header row
            int n = vals.Count;
            while (n > 0 && double.IsNaN(vals[n - 1])) n--; // ragged rows: trailing empties are padding
            list.Add(new WideSeries(id, vals.Take(n).ToArray()));
        }
        return list;
    }
}
